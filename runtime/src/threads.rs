//! The runtime's own threads, and the priority each one runs at.
//!
//! A thread inherits its nice value from the thread that starts it. The
//! market-data path raises itself above normal (the bar loop and the feed
//! threads, `live::raise_feed_priority` for a host's own feed thread), so a
//! runtime started from a raised thread — a host that feeds bars from its
//! main thread, as the latency bench does — would run its whole control
//! plane there too: compiles, smoke tests and the epoch ticker competing
//! with the bar loop as equals, on the very cores the loop needs (issue 16:
//! the latency bench ran that way). Every other thread the runtime starts
//! goes through [`spawn`], which brings it back to at most normal priority
//! first.

use std::thread::JoinHandle;

/// Normal priority: nice 0. A thread raised above it (a lower nice) is
/// brought back; one the user started lower (`nice -n 10 runtime live`)
/// stays where the user put it.
pub const NORMAL_NICE: i32 = 0;

/// Starts a named runtime thread at no more than normal priority.
pub fn spawn<F, T>(name: impl Into<String>, f: F) -> std::io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            at_most_normal_priority();
            f()
        })
}

/// [`spawn`] for a scoped thread.
pub fn spawn_scoped<'scope, F, T>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    name: impl Into<String>,
    f: F,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn_scoped(scope, move || {
            at_most_normal_priority();
            f()
        })
}

/// Brings the calling thread back to [`NORMAL_NICE`] if it runs above it;
/// lowering a priority needs no privilege, so this cannot be refused.
#[cfg(target_os = "linux")]
pub fn at_most_normal_priority() {
    // SAFETY (both calls): no memory-safety preconditions; `who` 0 is the
    // calling thread on Linux (PRIO_PROCESS acts per thread). getpriority
    // cannot fail for it, so -1 is a nice value here, not an error.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    if nice < NORMAL_NICE && unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NORMAL_NICE) } != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            nice,
            "cannot bring a runtime thread back to normal priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub fn at_most_normal_priority() {}

/// Asks the scheduler to run the calling thread in time slices of `slice`
/// (EEVDF's custom slice, Linux 6.12+: `sched_attr.sched_runtime` of a
/// `SCHED_OTHER` thread), at its present nice value. A thread with a long
/// slice is picked less often and runs longer once picked; its share of
/// the CPU stays what its nice value gives it. Best effort: false where
/// the kernel refused or knows no such thing (older kernels ignore it).
#[cfg(target_os = "linux")]
pub fn run_in_slices_of(slice: std::time::Duration) -> bool {
    /// `struct sched_attr` as of Linux 3.14 (`SCHED_ATTR_SIZE_VER0`).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime_ns: u64,
        deadline_ns: u64,
        period_ns: u64,
    }
    // SAFETY: no preconditions; cannot fail for the calling thread.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: 0,
        nice,
        priority: 0,
        runtime_ns: u64::try_from(slice.as_nanos()).unwrap_or(u64::MAX),
        deadline_ns: 0,
        period_ns: 0,
    };
    // SAFETY: `attr` is a valid `sched_attr` of the size it states, read by
    // the kernel during the call only; pid 0 is the calling thread.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    if rc != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            slice_ms = slice.as_millis() as u64,
            "cannot set a compile thread's time slice; it runs in the default ones"
        );
    }
    rc == 0
}

#[cfg(not(target_os = "linux"))]
pub fn run_in_slices_of(_slice: std::time::Duration) -> bool {
    false
}

/// The calling thread's time slice in ns, as `/proc` shows it (`se.slice`).
#[cfg(all(test, target_os = "linux"))]
pub fn this_threads_slice_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/sched")
        .ok()?
        .lines()
        .find(|line| line.starts_with("se.slice "))?
        .split(':')
        .nth(1)?
        .trim()
        .parse()
        .ok()
}

/// This process's threads named `name`: their `/proc/self/task/<tid>`
/// directories.
#[cfg(all(test, target_os = "linux"))]
pub fn tasks_named(name: &str) -> Vec<std::path::PathBuf> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .map(|task| task.path())
        .filter(|task| {
            std::fs::read_to_string(task.join("comm")).is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// The calling thread's nice value.
#[cfg(all(test, target_os = "linux"))]
pub fn this_threads_nice() -> i32 {
    // SAFETY: no preconditions; cannot fail for the calling thread.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The regression test of issue 16's storm: a thread raised to the
    /// bar loop's priority starts a runtime thread, which must not run
    /// there.
    #[test]
    fn regression_16_a_thread_started_from_a_raised_one_runs_at_normal_priority() {
        let seen = std::thread::spawn(|| {
            let raised = crate::live::raise_feed_priority();
            let child = spawn("sandbar-test", this_threads_nice)
                .unwrap()
                .join()
                .unwrap();
            let scoped = std::thread::scope(|scope| {
                spawn_scoped(scope, "sandbar-test-scoped", this_threads_nice)
                    .unwrap()
                    .join()
                    .unwrap()
            });
            (raised, this_threads_nice(), child, scoped)
        })
        .join()
        .unwrap();
        let (raised, parent, child, scoped) = seen;
        if raised {
            assert!(parent < NORMAL_NICE, "the parent was raised: {parent}");
        }
        assert!(child >= NORMAL_NICE, "child at nice {child}");
        assert!(scoped >= NORMAL_NICE, "scoped child at nice {scoped}");
    }

    #[test]
    fn a_thread_the_user_started_low_stays_low() {
        let child = std::thread::spawn(|| {
            // SAFETY: lowering the calling thread's priority.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 7) };
            spawn("sandbar-test", this_threads_nice)
                .unwrap()
                .join()
                .unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(child, 7);
    }
}
