//! The market-data path — the bar loop's thread and the feed threads that
//! bring it bars — runs at a higher priority than everything else the
//! runtime does (nice [`LOOP_NICE`]): a reload's baseline compile, smoke
//! test and warm-up run at normal priority on the control plane so a busy
//! machine cannot starve them, and a bar must still win every contest for
//! a core with them, on its way in as in the loop — and with other
//! processes of the same user. (A feed thread at normal priority waited for
//! a compile's whole time slice, up to 3 ms, before it could hand a bar on.)
//!
//! Raising a priority needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows
//! it (root has both). Without, the loop runs at normal priority and one
//! debug line says so: latency is then what BENCHMARKS.md measured before.

/// The loop thread's nice value (normal is 0; the compile pool runs at
/// `SCHED_IDLE`).
pub const LOOP_NICE: i32 = -5;

/// Raises the calling thread (the loop's, a feed's) to [`LOOP_NICE`]; best
/// effort. True when it took.
#[cfg(target_os = "linux")]
pub fn raise_this_thread() -> bool {
    // SAFETY: setpriority has no memory-safety preconditions; `who` 0 is
    // the calling thread on Linux (PRIO_PROCESS acts per thread).
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, LOOP_NICE) };
    if rc != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            nice = LOOP_NICE,
            "cannot raise the bar loop's priority (needs CAP_SYS_NICE or RLIMIT_NICE); it runs at normal priority"
        );
        return false;
    }
    true
}

#[cfg(not(target_os = "linux"))]
pub fn raise_this_thread() -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_loop_thread_runs_above_normal_priority_when_allowed() {
        use crate::threads::this_threads_nice;
        let ours = this_threads_nice();
        let thread = std::thread::spawn(|| {
            let before = this_threads_nice();
            let raised = raise_this_thread();
            let after = this_threads_nice();
            (before, raised, after)
        });
        let (before, raised, after) = thread.join().unwrap();
        if raised {
            assert_eq!(after, LOOP_NICE);
        } else {
            assert_eq!(after, before, "refused: left as it was");
        }
        // Only that thread: this one is untouched.
        assert_eq!(this_threads_nice(), ours);
    }
}
