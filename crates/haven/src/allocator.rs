//! The process's allocator: mimalloc, configured before anything is allocated.
//!
//! See the workspace manifest for why the server does not use the system allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_arena_eager_commit` and `mi_option_disallow_arena_alloc`: their
/// numbers in the `mimalloc.h` of the mimalloc 3 that libmimalloc-sys builds (mimalloc 2
/// numbers the second differently). `MIMALLOC_VERBOSE=1 haven --help` lists every option
/// with its value, which shows both set.
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const DISALLOW_ARENA_ALLOC: libmimalloc_sys::mi_option_t = 26;

/// Runs among the executable's initialisers, before `main` and before Rust's runtime makes
/// its first allocation: mimalloc sets up its first arena then, with the options it has.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static CONFIGURE: extern "C" fn() = configure;

/// By default mimalloc commits its arenas up front on Linux, and then can only hand freed
/// memory back with `MADV_FREE`, which leaves it counted as the server's resident memory
/// until the machine runs short. Committed on demand, freed memory is returned at once:
/// an idle server holds 3.5 MiB of heap instead of 14.5, and a room of ten all sending
/// video peaks about 30 MiB lower, for the same CPU.
///
/// Nor does it take its segments from arenas: memory freed back to an arena is returned
/// to the system only when a later allocation prompts a purge, and the thread that frees
/// a sign-in's password hash (19 MiB) then idles, so ten sign-ins left an idle server 20 MiB
/// larger for good. A segment of its own is unmapped as soon as it is empty.
extern "C" fn configure() {
    // SAFETY: sets two integer options; mimalloc allows this at any time, and they take
    // effect for arenas and segments created afterwards, which here is all of them.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(DISALLOW_ARENA_ALLOC, 1);
    }
}
