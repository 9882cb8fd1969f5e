//! Files shared in the chat, when the organisation's policy allows it: PDF, PNG and JPEG
//! only (known by their first bytes), up to 5 MiB each, kept in this room's memory and
//! nowhere else, downloadable by whoever is in the call, and discarded when the room
//! ends. Each person in the call gets a key for the HTTP side (`signal/files.rs`); the
//! hub decides every upload and download, so someone moved out of the call (waiting, on
//! hold, removed) can do neither, whatever key they kept.

use std::collections::BTreeMap;

use axum::body::Bytes;
use haven_domain::chat::{FileKind, MAX_FILE_BYTES, file_name};
use tokio::sync::oneshot;

use super::{Hub, RoomKind, Stage};
use crate::media::ParticipantId;
use crate::signal::protocol::{ChatFileInfo, ServerMsg};

/// The most bytes of files one room holds.
const MAX_ROOM_BYTES: usize = 50 * 1024 * 1024;

/// Why a file was refused: a stable code and a sentence for the person sharing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRefusal {
    /// `not_in_call`, `not_allowed`, `file_type`, `file_too_large`, `chat_full` or
    /// `not_found`.
    pub code: &'static str,
    /// The sentence.
    pub message: String,
}

impl FileRefusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        FileRefusal {
            code,
            message: message.into(),
        }
    }
}

/// A file someone shares.
pub(crate) struct Upload {
    /// Who, by the key they hold.
    pub participant: ParticipantId,
    /// The name they gave it.
    pub name: String,
    /// Its bytes (already checked against [`MAX_FILE_BYTES`]).
    pub bytes: Bytes,
    /// What was shared, or why not.
    pub reply: oneshot::Sender<Result<ChatFileInfo, FileRefusal>>,
}

/// A shared file someone asks for.
pub(crate) struct Download {
    /// Who, by the key they hold.
    pub participant: ParticipantId,
    /// Which file.
    pub id: String,
    /// The file, or why not.
    pub reply: oneshot::Sender<Result<SharedFile, FileRefusal>>,
}

/// One shared file.
#[derive(Clone)]
pub(crate) struct SharedFile {
    /// Its cleaned name.
    pub name: String,
    /// What its bytes are.
    pub kind: FileKind,
    /// The bytes.
    pub bytes: Bytes,
}

/// The room's files.
#[derive(Default)]
pub(super) struct Files {
    by_id: BTreeMap<String, SharedFile>,
    total: usize,
}

impl Files {
    pub(super) fn clear(&mut self) {
        self.by_id.clear();
        self.total = 0;
    }
}

impl Hub {
    /// Whether the organisation allows files in this room (never in a test room).
    async fn files_allowed(&self) -> bool {
        let RoomKind::Consultation { org, .. } = &self.kind else {
            return false;
        };
        match self.live.store.org(org).await {
            Ok(o) => o.policy.file_sharing_allowed,
            Err(e) => {
                tracing::error!(room = %self.id, error = %e, "reading the policy failed");
                false
            }
        }
    }

    /// Whether `id` is in the call now.
    fn in_call(&self, id: ParticipantId) -> bool {
        self.members.get(&id).map(|m| m.stage) == Some(Stage::Admitted)
    }

    /// Someone joined or was admitted: they learn that the chat is kept, and get their
    /// key for files when files are allowed.
    pub(super) async fn chat_join(&mut self, id: ParticipantId) {
        if !self.in_call(id) {
            return;
        }
        let Some(conn) = self.members.get(&id).and_then(|m| m.conn.clone()) else {
            return;
        };
        if let Some(notice) = self.chat.kept_notice() {
            conn.send(notice);
        }
        if self.files_allowed().await {
            let key = self.live.file_keys.issue(self.id, id);
            conn.send(ServerMsg::ChatFiles {
                key,
                max_bytes: MAX_FILE_BYTES as u64,
            });
        }
    }

    /// Checks and keeps a shared file, and posts it in the chat.
    pub(super) async fn upload(&mut self, up: Upload) {
        let result = self.accept_file(up.participant, &up.name, up.bytes).await;
        let _ = up.reply.send(result);
    }

    async fn accept_file(
        &mut self,
        id: ParticipantId,
        name: &str,
        bytes: Bytes,
    ) -> Result<ChatFileInfo, FileRefusal> {
        if !self.in_call(id) {
            return Err(FileRefusal::new(
                "not_in_call",
                "files are shared with the people in the call; you are not in the call now",
            ));
        }
        if !self.files_allowed().await {
            return Err(FileRefusal::new(
                "not_allowed",
                "your organisation's policy does not allow sharing files in calls",
            ));
        }
        let Some(kind) = FileKind::sniff(&bytes) else {
            return Err(FileRefusal::new(
                "file_type",
                "only PDF documents and PNG or JPEG pictures can be shared; this file is none of them",
            ));
        };
        if self.files.total + bytes.len() > MAX_ROOM_BYTES {
            return Err(FileRefusal::new(
                "file_too_large",
                "this call has shared as many files as it can hold; no more can be shared",
            ));
        }
        if self.chat_full(id) {
            return Err(FileRefusal::new(
                "chat_full",
                "this call's chat is full; no more can be shared",
            ));
        }
        let name = file_name(name, kind);
        let info = ChatFileInfo {
            id: crate::web::random_token(),
            name: name.clone(),
            mime: kind.mime().to_owned(),
            bytes: bytes.len() as u64,
        };
        self.files.total += bytes.len();
        self.files.by_id.insert(
            info.id.clone(),
            SharedFile {
                name: name.clone(),
                kind,
                bytes,
            },
        );
        let now = self.live.clock.now();
        let text = format!("Shared a file: {name}");
        self.post(id, text, false, Some(info.clone()), now).await;
        Ok(info)
    }

    /// Hands a shared file to someone in the call.
    pub(super) fn download(&self, down: Download) {
        let result =
            if !self.in_call(down.participant) {
                Err(FileRefusal::new(
                    "not_in_call",
                    "files can be downloaded only by the people in the call",
                ))
            } else {
                self.files.by_id.get(&down.id).cloned().ok_or_else(|| {
                    FileRefusal::new("not_found", "there is no such file in this call")
                })
            };
        let _ = down.reply.send(result);
    }
}
