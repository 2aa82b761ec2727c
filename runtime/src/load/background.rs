//! Compiles below the bar loop's priority: a compile takes tens to hundreds
//! of milliseconds of CPU, and on a small machine it would otherwise compete
//! as an equal with the loop for a core. At idle priority (`SCHED_IDLE`;
//! nice 19 where that is refused) the scheduler lets the loop preempt it as
//! soon as a bar arrives.
//!
//! Idle priority alone starves a compile on a machine whose CPUs are all
//! busy (issue 16: 41–54 s beside two CPU-bound processes, 206 ms quiet),
//! so the pool ages: a job that has run for a second moves the pool to
//! `SCHED_OTHER` at nice 10 until that job ends (the next one ages on its
//! own clock). A new build does not
//! wait for it with `hot_reload.tiering = "auto"`: its baseline code is
//! compiled on the baseline pool ([`run_normal_priority`]), and only the
//! tier-up runs here.
//!
//! The compile pool is one rayon pool per process whose threads all run at
//! idle priority. wasmtime's parallel compile (`Config::parallel_compilation`) fans
//! out on the rayon pool it is called from, so a compile started inside the
//! pool uses every core the loop leaves idle and none it needs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Compile threads at most: past this a component's functions are too few
/// to keep more threads busy, and each idle thread still costs a stack.
const MAX_COMPILE_THREADS: usize = 8;

/// How long a compile may get no CPU at idle priority before the pool is
/// raised to [`STARVED_NICE`] (issue 16: beside two CPU-bound processes a
/// `SCHED_IDLE` compile took 41–54 s). On a machine with any idle CPU a
/// compile ends well within it, so the loop never competes with it.
const STARVED_AFTER: Duration = Duration::from_secs(1);

/// The nice value of a starved pool: `SCHED_OTHER` at nice 10 weighs 110
/// against a nice-0 process's 1024, about a tenth of a shared core, so a
/// compile ends in seconds beside busy processes and still yields to the
/// bar loop (nice 0) whenever a bar arrives.
const STARVED_NICE: i32 = 10;

/// Runs `f` on the low-priority compile pool and waits for it; on the
/// caller's thread if the pool could not be started.
pub(crate) fn run_low_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match compile_pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Runs `f` on the baseline pool and waits for it: Winch's compile of a
/// new build, which must not wait for idle CPU (a busy machine has none)
/// and must not outrank the bar loop either. Its threads run at normal
/// priority whatever thread first used the pool (a raised host thread
/// would otherwise lend them the loop's priority: `crate::threads`), and
/// wasmtime's parallel compile fans out on them, not on rayon's global
/// pool, whose threads inherit the priority of whoever started them.
pub(crate) fn run_normal_priority<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        normal_pool(compile_threads())
            .inspect_err(|error| {
                tracing::warn!(%error, "cannot start the baseline compile pool; compiling on the reload thread");
            })
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// The baseline pool's time slice. The scheduler's default on two cores
/// (1.4 ms) cut a Winch compile (15–20 ms of CPU for sma-cross) into a
/// dozen pieces, each of which held up one bar by up to a slice whenever
/// the cores were busy — in the latency bench's storm of ten new builds a
/// second, enough to put the loop's p99.9 at 7–10x quiet. Run in 10 ms
/// pieces, a compile holds up a bar or two instead: measured (2 cores,
/// release) 1.43x quiet in that storm, and a reload beside two CPU-bound
/// processes 2.6x its quiet time (a longer slice waits longer for a core:
/// 20 ms gave 1.40x and 2.9x, 100 ms 1.15x with the storm's reloads down
/// by half). BENCHMARKS.md, "Latency under reload".
const BASELINE_SLICE: Duration = Duration::from_millis(10);

fn normal_pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sandbar-baseline-{i}"))
        .start_handler(|_| {
            crate::threads::at_most_normal_priority();
            crate::threads::run_in_slices_of(BASELINE_SLICE);
        })
        .build()
}

/// A rayon pool at idle priority that ages: when a job has run for
/// `starved_after` (it got too little CPU), its threads move to
/// `SCHED_OTHER` at [`STARVED_NICE`] until that job has ended, then back to
/// `SCHED_IDLE`. A watchdog thread does the moving (Linux lets a thread
/// set another's policy by its id).
struct CompilePool {
    pool: rayon::ThreadPool,
    aging: Arc<Aging>,
}

#[derive(Default)]
struct Aging {
    /// Thread ids of the pool's threads.
    threads: Mutex<Vec<i32>>,
    /// Jobs running on the pool now: (id, when it started running, in ns
    /// after `epoch`). A job waiting for a pool thread is not here: its
    /// clock starts when it runs, so a queue of jobs behind a starved one
    /// does not keep the pool raised.
    running: Mutex<Vec<(u64, u64)>>,
    next_job: AtomicU64,
    /// The job the pool was raised for (0: the pool is at idle priority).
    raised_for: AtomicU64,
    epoch: OnceLock<Instant>,
}

impl Aging {
    fn now_ns(&self) -> u64 {
        let epoch = self.epoch.get_or_init(Instant::now);
        u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn thread_ids(&self) -> Vec<i32> {
        self.threads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, Vec<(u64, u64)>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One look of the watchdog: raise the pool for a job that has run for
    /// `starved_after` (it got too little CPU), and put it back to idle
    /// priority once that job has ended — the next job ages on its own
    /// clock. Per job, not "until the pool is idle": under a stream of
    /// tier-ups (a storm of new builds) the pool would never be idle and
    /// would compete with the bar loop for good.
    fn check(&self, starved_after: Duration) {
        let now = self.now_ns();
        let (oldest, raised_job_running) = {
            let running = self.running();
            let raised_for = self.raised_for.load(Ordering::Relaxed);
            let oldest = running.iter().min_by_key(|(_, started)| *started).copied();
            (oldest, running.iter().any(|(id, _)| *id == raised_for))
        };
        let raised = self.raised_for.load(Ordering::Relaxed) != 0;
        if raised && !raised_job_running {
            for tid in self.thread_ids() {
                set_thread_priority(tid, Priority::Idle);
            }
            self.raised_for.store(0, Ordering::Relaxed);
            return;
        }
        let Some((job, started)) = oldest else {
            return;
        };
        let ran_for = Duration::from_nanos(now.saturating_sub(started));
        if !raised && ran_for >= starved_after {
            tracing::info!(
                busy_ms = ran_for.as_millis() as u64,
                nice = STARVED_NICE,
                "a compile got no CPU at idle priority; raising the compile pool until it ends"
            );
            for tid in self.thread_ids() {
                set_thread_priority(tid, Priority::Starved);
            }
            self.raised_for.store(job, Ordering::Relaxed);
        }
    }
}

/// Counts a job as running while it lives (a panicking job included).
struct Running<'a> {
    aging: &'a Aging,
    id: u64,
}

impl<'a> Running<'a> {
    fn start(aging: &'a Aging) -> Self {
        // Ids start at 1: 0 means "not raised".
        let id = aging.next_job.fetch_add(1, Ordering::Relaxed) + 1;
        let now = aging.now_ns();
        aging.running().push((id, now));
        Running { aging, id }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.aging.running().retain(|(id, _)| *id != self.id);
    }
}

impl CompilePool {
    fn new(threads: usize, starved_after: Duration) -> Result<Self, rayon::ThreadPoolBuildError> {
        let aging = Arc::new(Aging::default());
        let registered = Arc::clone(&aging);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sandbar-compile-{i}"))
            .start_handler(move |_| {
                lower_this_threads_priority();
                if let Some(tid) = this_thread_id() {
                    registered
                        .threads
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push(tid);
                }
            })
            .build()?;
        let weak = Arc::downgrade(&aging);
        let watchdog = crate::threads::spawn("sandbar-compile-aging", move || {
            let step = (starved_after / 4).max(Duration::from_millis(10));
            while let Some(aging) = weak.upgrade() {
                aging.check(starved_after);
                drop(aging);
                std::thread::sleep(step);
            }
        });
        if let Err(error) = watchdog {
            tracing::warn!(%error, "cannot start the compile pool's watchdog; a starved compile stays at idle priority");
        }
        Ok(Self { pool, aging })
    }

    fn install<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        self.pool.install(|| {
            let _running = Running::start(&self.aging);
            f()
        })
    }
}

/// Threads in the compile pool: one per core, so a compile finishes as fast
/// as the machine allows when the loop is idle.
fn compile_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_COMPILE_THREADS)
}

fn compile_pool() -> Option<&'static CompilePool> {
    static POOL: OnceLock<Option<CompilePool>> = OnceLock::new();
    POOL.get_or_init(|| {
        CompilePool::new(compile_threads(), STARVED_AFTER)
            .inspect_err(|error| {
                tracing::warn!(%error, "cannot start the compile pool; compiling on the reload thread");
            })
            .ok()
    })
    .as_ref()
}

#[derive(Clone, Copy)]
enum Priority {
    Idle,
    Starved,
}

#[cfg(target_os = "linux")]
fn this_thread_id() -> Option<i32> {
    // SAFETY: gettid has no preconditions.
    Some(unsafe { libc::gettid() })
}

#[cfg(not(target_os = "linux"))]
fn this_thread_id() -> Option<i32> {
    None
}

/// Moves thread `tid` of this process to a priority; best effort (a
/// refusal is logged at debug and the thread stays as it was).
#[cfg(target_os = "linux")]
fn set_thread_priority(tid: i32, priority: Priority) {
    let param = libc::sched_param { sched_priority: 0 };
    let (policy, nice) = match priority {
        Priority::Idle => (libc::SCHED_IDLE, 19),
        Priority::Starved => (libc::SCHED_OTHER, STARVED_NICE),
    };
    // SAFETY: sched_setscheduler reads `param` only during the call.
    let set = unsafe { libc::sched_setscheduler(tid, policy, &param) };
    // SAFETY: setpriority has no memory-safety preconditions.
    let niced = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) };
    if set != 0 || niced != 0 {
        tracing::debug!(
            tid,
            error = %std::io::Error::last_os_error(),
            "cannot change a compile thread's priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn set_thread_priority(_tid: i32, _priority: Priority) {}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // SCHED_IDLE, not just nice 19: a waking normal thread preempts an idle
    // one at once, where a nice-19 thread may finish its slice first, and on
    // two cores that slice shows up in the loop's p99.9 (BENCHMARKS.md).
    // Both act on the calling thread only (pid 0 is this thread on Linux).
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler reads `param` only during the call.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
        return;
    }
    let idle_error = std::io::Error::last_os_error();
    // SAFETY: setpriority has no memory-safety preconditions.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
    if rc != 0 {
        tracing::debug!(
            %idle_error,
            nice_error = %std::io::Error::last_os_error(),
            "cannot lower a compile thread's priority; compiling at normal priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool is one per process and the aging test raises its policy:
    /// the tests that read the policy take turns.
    static POOL_POLICY: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// This thread's scheduling policy.
    #[cfg(target_os = "linux")]
    fn policy() -> i32 {
        // SAFETY: sched_getscheduler has no memory-safety preconditions.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[test]
    fn returns_what_the_job_returns_and_propagates_its_panic() {
        let bytes = [1u8, 2, 3];
        assert_eq!(run_low_priority(|| bytes.len()), 3);
        let panicked = std::panic::catch_unwind(|| run_low_priority(|| panic!("boom")));
        assert!(panicked.is_err());
        // The pool survives a panicking job.
        assert_eq!(run_low_priority(|| 7), 7);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn jobs_and_their_parallel_parts_run_at_idle_priority() {
        let _pool = POOL_POLICY.lock().unwrap_or_else(|e| e.into_inner());
        use rayon::prelude::*;
        let caller = policy();
        // A pool of its own, the size of the process's, that never ages in
        // this test: the process's pool is raised whenever another test's
        // compile runs over a second on a loaded machine.
        let pool = CompilePool::new(compile_threads(), Duration::from_secs(3600)).unwrap();
        let (job, parts) = pool.install(|| {
            let parts: Vec<i32> = (0..64).into_par_iter().map(|_| policy()).collect();
            (policy(), parts)
        });
        assert_eq!(job, libc::SCHED_IDLE);
        assert!(parts.iter().all(|&p| p == libc::SCHED_IDLE), "{parts:?}");
        assert_eq!(policy(), caller, "the caller's policy is untouched");
    }

    /// Started from a thread at the bar loop's priority, the baseline
    /// pool's threads and the parallel parts of a job still run at normal
    /// priority, in long time slices where the kernel has them.
    #[cfg(target_os = "linux")]
    #[test]
    fn regression_16_the_baseline_pool_runs_at_normal_priority_when_started_from_a_raised_thread() {
        use rayon::prelude::*;
        let parts = std::thread::spawn(|| {
            // Best effort: unprivileged, the thread stays at normal priority.
            crate::live::raise_feed_priority();
            let pool = normal_pool(compile_threads()).unwrap();
            let parts: Vec<(i32, Option<u64>)> = pool.install(|| {
                (0..64)
                    .into_par_iter()
                    .map(|_| {
                        (
                            crate::threads::this_threads_nice(),
                            crate::threads::this_threads_slice_ns(),
                        )
                    })
                    .collect()
            });
            parts
        })
        .join()
        .unwrap();
        assert!(
            parts
                .iter()
                .all(|&(nice, _)| nice >= crate::threads::NORMAL_NICE),
            "{parts:?}"
        );
        // A kernel with custom slices (6.12+) shows them as `se.slice`.
        let long = BASELINE_SLICE.as_nanos() as u64;
        if crate::threads::run_in_slices_of(BASELINE_SLICE)
            && crate::threads::this_threads_slice_ns() == Some(long)
        {
            assert!(
                parts.iter().all(|&(_, slice)| slice == Some(long)),
                "{parts:?}"
            );
        }
        assert_eq!(run_normal_priority(|| 5), 5);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn issue_16_a_starved_compile_is_raised_off_idle_priority_and_put_back_when_it_ends() {
        let _pool = POOL_POLICY.lock().unwrap_or_else(|e| e.into_inner());
        // Its own pool (the process's pool is shared with other tests),
        // which counts as starved after 100 ms.
        let pool = CompilePool::new(1, Duration::from_millis(100)).unwrap();
        let (first, later) = pool.install(|| {
            let first = policy();
            // A job that runs long, as one without CPU does.
            let start = Instant::now();
            let mut later = first;
            while start.elapsed() < Duration::from_secs(5) && later == first {
                std::thread::sleep(Duration::from_millis(10));
                later = policy();
            }
            (first, later)
        });
        assert_eq!(first, libc::SCHED_IDLE, "a job starts at idle priority");
        assert_eq!(later, libc::SCHED_OTHER, "a long job is raised");
        let start = Instant::now();
        let mut back = libc::SCHED_OTHER;
        while start.elapsed() < Duration::from_secs(5) && back != libc::SCHED_IDLE {
            std::thread::sleep(Duration::from_millis(50));
            back = pool.pool.install(policy);
        }
        assert_eq!(
            back,
            libc::SCHED_IDLE,
            "the pool goes back to idle priority when the starved job ends"
        );
    }

    /// The pool stayed raised until it was idle, so a stream of compiles
    /// (every cold reload of a storm queues a tier-up) kept it at nice 10 for
    /// good, competing with the bar loop. A job queued behind a starved one
    /// now starts on its own clock, at idle priority.
    #[cfg(target_os = "linux")]
    #[test]
    fn regression_16_a_job_behind_a_starved_one_runs_at_idle_priority_again() {
        let _pool = POOL_POLICY.lock().unwrap_or_else(|e| e.into_inner());
        let pool = CompilePool::new(1, Duration::from_secs(1)).unwrap();
        let until = |wanted: i32| {
            let start = Instant::now();
            let mut now = policy();
            while start.elapsed() < Duration::from_secs(10) && now != wanted {
                std::thread::sleep(Duration::from_millis(5));
                now = policy();
            }
            now
        };
        let (raised, seen_by_next) = std::thread::scope(|scope| {
            let first = scope.spawn(|| pool.install(|| until(libc::SCHED_OTHER)));
            // Queued behind the first job (one thread), so it runs once the
            // first has been raised and ended.
            std::thread::sleep(Duration::from_millis(50));
            let next = scope.spawn(|| pool.install(|| until(libc::SCHED_IDLE)));
            (first.join().unwrap(), next.join().unwrap())
        });
        assert_eq!(raised, libc::SCHED_OTHER, "the starved job is raised");
        assert_eq!(
            seen_by_next,
            libc::SCHED_IDLE,
            "the next job ages on its own clock, from idle priority"
        );
    }
}
