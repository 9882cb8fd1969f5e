//! Staff roles and sets of roles.
//!
//! A user may hold several roles (a clinician who is also the practice's
//! administrator), so permissions are checked against a [`Roles`] set.

use std::fmt;

use crate::Error;

/// What a member of staff may do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Role {
    /// Manages the organisation: users, clinics, policy.
    Admin,
    /// Holds consultations.
    Clinician,
    /// Books appointments and sends invitations.
    Receptionist,
    /// Information-governance auditor: reads the audit log.
    IgAuditor,
}

impl Role {
    /// Every role, in canonical order.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Clinician,
        Role::Receptionist,
        Role::IgAuditor,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clinician => "clinician",
            Role::Receptionist => "receptionist",
            Role::IgAuditor => "ig_auditor",
        }
    }

    /// The stored form back into a role; exact match only.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::InvalidRole(crate::echo(s)))
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Clinician => "Clinician",
            Role::Receptionist => "Receptionist",
            Role::IgAuditor => "IG auditor",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of roles, stored as a bit set.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roles(u8);

impl Roles {
    /// The empty set.
    pub const fn empty() -> Self {
        Roles(0)
    }

    /// Parses the stored form: role names separated by commas. Spaces
    /// around names are tolerated; an empty string is the empty set.
    pub fn parse_list(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Roles::empty());
        }
        s.split(',').map(|part| Role::parse(part.trim())).collect()
    }

    /// The stored form, in canonical order, so equal sets store equally.
    pub fn to_list(&self) -> String {
        self.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
    }

    /// Whether the set holds `role`.
    pub fn contains(&self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// Adds `role`; returns whether it was newly added.
    pub fn insert(&mut self, role: Role) -> bool {
        let added = !self.contains(role);
        self.0 |= role.bit();
        added
    }

    /// Removes `role`; returns whether it was present.
    pub fn remove(&mut self, role: Role) -> bool {
        let present = self.contains(role);
        self.0 &= !role.bit();
        present
    }

    /// The roles held, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        Role::ALL.into_iter().filter(|r| self.contains(*r))
    }

    /// Whether the set holds no role.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut roles = Roles::empty();
        for role in iter {
            roles.insert(role);
        }
        roles
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_round_trips() {
        let expected = [
            (Role::Admin, "admin", "Administrator"),
            (Role::Clinician, "clinician", "Clinician"),
            (Role::Receptionist, "receptionist", "Receptionist"),
            (Role::IgAuditor, "ig_auditor", "IG auditor"),
        ];
        assert_eq!(Role::ALL.len(), expected.len());
        for (role, stored, label) in expected {
            assert_eq!(role.as_str(), stored);
            assert_eq!(role.label(), label);
            assert_eq!(Role::parse(stored), Ok(role));
        }
    }

    #[test]
    fn unknown_role_lists_the_valid_ones() {
        for bad in ["", "Admin", "superuser", " admin", "ig-auditor"] {
            let err = Role::parse(bad).expect_err("not a role");
            let msg = err.to_string();
            for role in Role::ALL {
                assert!(msg.contains(role.as_str()), "{msg}");
            }
        }
    }

    #[test]
    fn parse_list_cases() {
        let cases: &[(&str, Option<&[Role]>)] = &[
            ("", Some(&[])),
            ("  ", Some(&[])),
            ("admin", Some(&[Role::Admin])),
            ("clinician,admin", Some(&[Role::Admin, Role::Clinician])),
            (
                "ig_auditor, receptionist ,admin,admin",
                Some(&[Role::Admin, Role::Receptionist, Role::IgAuditor]),
            ),
            ("admin,", None),
            (",", None),
            ("admin,boss", None),
        ];
        for &(input, expected) in cases {
            let parsed = Roles::parse_list(input);
            match expected {
                Some(roles) => {
                    let set = parsed.expect("valid list");
                    assert_eq!(set.iter().collect::<Vec<_>>(), roles, "{input:?}");
                }
                None => assert!(parsed.is_err(), "{input:?}"),
            }
        }
    }

    #[test]
    fn to_list_is_canonical_and_round_trips() {
        let set: Roles = [Role::IgAuditor, Role::Admin].into_iter().collect();
        assert_eq!(set.to_list(), "admin,ig_auditor");
        assert_eq!(Roles::parse_list(&set.to_list()), Ok(set));
        assert_eq!(Roles::empty().to_list(), "");
        assert_eq!(format!("{set:?}"), "{Admin, IgAuditor}");
    }

    #[test]
    fn insert_remove_contains() {
        let mut set = Roles::default();
        assert!(set.is_empty());
        assert!(set.insert(Role::Clinician));
        assert!(!set.insert(Role::Clinician));
        assert!(set.contains(Role::Clinician));
        assert!(!set.contains(Role::Admin));
        assert!(!set.remove(Role::Admin));
        assert!(set.remove(Role::Clinician));
        assert!(set.is_empty());
    }
}
