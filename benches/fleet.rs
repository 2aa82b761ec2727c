//! The fleet (issue 20) against a real `nats-server` on loopback:
//!
//! - `deploy_to_3_nodes`: `deploy` of a known build (every node has its
//!   artefact and its compile cached) → all three in-process nodes serving
//!   it (their live generation is that build), p50 and p90 over rounds that
//!   alternate two builds; and of a new build: publish + deploy → all three
//!   serving (download, cold compile once, cache hits on the other two, as
//!   nodes sharing an artefact cache would), and the same on one node
//!   (three nodes on two cores compile side by side; one node is what each
//!   machine of a fleet sees);
//! - `bar_loop_with_fleet`: the per-bar round trip (push on the manual
//!   feed, spin until processed) of a node with `[fleet]` while its agent
//!   runs (heartbeat at the default 2 s or `FLEET_BENCH_HEARTBEAT_MS`,
//!   events forwarded) against the same node
//!   with the agent stopped, slices interleaved so machine load falls on
//!   both alike, beside an A/A control of two slices without the agent
//!   (the fleet's own deployment is retired first: the node runs one local
//!   strategy);
//! - `local_cold_reload`: a new build of a local strategy, file written and
//!   pipeline run, until it serves: the baseline of `new_build`.
//!
//! A custom main: `cargo bench --bench fleet` (release), or
//! `cargo test -p sandbar --bench fleet -- --bench` (the full run in the
//! test profile, dependencies at opt-level 2); without `--bench` (as
//! `cargo test --benches` runs it) a short smoke run.

#[path = "../tests/e2e/fleet/nats.rs"]
#[allow(dead_code)]
mod nats;
mod support;

use hdrhistogram::Histogram;
use sandbar_runtime::Loader;
use sandbar_runtime::config::Config;
use sandbar_runtime::contract::Bar;
use sandbar_runtime::feed::{MarketStyle, SyntheticFeed};
use sandbar_runtime::fleet::{
    DeployRequest, Deployment, Expect, FleetClient, FleetSettings, NodeAgent,
};
use sandbar_runtime::live::{FeedMode, LiveOptions, Runtime};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Node {
    runtime: Runtime,
    agent: Option<NodeAgent>,
    config: Config,
    dir: tempfile::TempDir,
    bars: SyntheticFeed,
    pushed: u64,
}

fn config(dir: &std::path::Path, fleet: Option<(&str, &str)>, local: Option<&str>) -> Config {
    let mut text = String::from(
        "profile = \"dev\"\n[runtime]\nstrategies_dir = \"dist\"\nhistory_bars = 64\n[hot_reload]\nenabled = false\n[feed]\nsymbols = [\"BTCUSD\"]\ninterval_ms = 0\n",
    );
    if let Some((url, node)) = fleet {
        text.push_str(&format!(
            "[fleet]\nurl = \"{url}\"\nnode = \"{node}\"\nfleet = \"bench\"\nheartbeat_ms = {}\n",
            heartbeat_ms()
        ));
    }
    if let Some(wasm) = local {
        text.push_str(&format!(
            "[[strategy]]\nid = \"local\"\nwasm = \"{wasm}\"\n"
        ));
    }
    let path = dir.join("sandbar.toml");
    std::fs::write(&path, &text).unwrap();
    Config::from_file(&path).unwrap()
}

impl Node {
    fn start(loader: &Arc<Loader>, fleet: Option<(&str, &str)>, local: Option<&[u8]>) -> Node {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        if let Some(bytes) = local {
            std::fs::write(dir.path().join("dist/local.wasm"), bytes).unwrap();
        }
        let config = config(dir.path(), fleet, local.map(|_| "local.wasm"));
        let kept = config.clone();
        let options = LiveOptions {
            config_path: None,
            journal_dir: None,
            feed: FeedMode::Manual,
            watch: false,
            rescan: false,
        };
        let (runtime, agent) = if fleet.is_some() {
            let (runtime, agent) =
                NodeAgent::start_runtime(config, options, Arc::clone(loader)).unwrap();
            (runtime, Some(agent))
        } else {
            (
                Runtime::start_with_loader(config, options, Arc::clone(loader)).unwrap(),
                None,
            )
        };
        Node {
            runtime,
            agent,
            config: kept,
            dir,
            bars: SyntheticFeed::new(1, 7, MarketStyle::Regimes, 60_000),
            pushed: 0,
        }
    }

    fn push(&mut self) {
        let bar: Bar = self.bars.next_bar();
        self.runtime.push_bar(bar).unwrap();
        self.pushed += 1;
    }

    fn round_trip(&mut self) -> Duration {
        let start = Instant::now();
        self.push();
        while self.runtime.bars_processed() < self.pushed {
            std::hint::spin_loop();
        }
        start.elapsed()
    }

    /// Starts the fleet agent again on the running runtime (a node with
    /// `[fleet]` whose agent was stopped) and waits until it is connected.
    fn start_agent(&mut self) {
        let agent = NodeAgent::resume(&self.config, self.runtime.handle()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !agent.connected() {
            assert!(Instant::now() < deadline, "the agent did not reconnect");
            std::thread::sleep(Duration::from_millis(2));
        }
        // Past its start-up (bucket opens, the watch's consumer, the first
        // reconcile and heartbeat): what is timed after is its steady state.
        std::thread::sleep(Duration::from_millis(600));
        self.agent = Some(agent);
    }

    fn stop_agent(&mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop();
        }
    }

    fn serves(&self, sha256: &str) -> bool {
        self.runtime
            .generation("fa")
            .is_some_and(|g| g.sha256() == sha256)
    }

    fn stop(mut self) {
        if let Some(agent) = self.agent.take() {
            agent.stop();
        }
        self.runtime.stop();
    }
}

fn deploy(op: &FleetClient, sha256: &str) {
    op.deploy(&DeployRequest {
        deployment: Deployment::new("fa", sha256),
        expect: Expect::Current,
    })
    .unwrap();
}

/// Deploys `sha256` and returns the times until the first node and until
/// every node serves it (the nodes share this machine's two cores, so the
/// first is what one machine of a real fleet would see), then pushes a
/// bar to each.
fn until_all_serve(
    op: &FleetClient,
    nodes: &mut [Node],
    sha256: &str,
    before: impl FnOnce(),
) -> (Duration, Duration) {
    let start = Instant::now();
    before();
    deploy(op, sha256);
    let deadline = start + Duration::from_secs(60);
    let mut first = None;
    while !nodes.iter().all(|n| n.serves(sha256)) {
        if first.is_none() && nodes.iter().any(|n| n.serves(sha256)) {
            first = Some(start.elapsed());
        }
        assert!(
            Instant::now() < deadline,
            "the nodes did not converge on {sha256}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    let elapsed = start.elapsed();
    for node in nodes.iter_mut() {
        node.push();
    }
    (first.unwrap_or(elapsed), elapsed)
}

/// A local cold reload on `node` (no fleet): a new build of its `local`
/// strategy written over its file, then the pipeline run on it; the time
/// until it serves the new build. The baseline of the fleet's new-build
/// figure (issue 20: ≤ this + 30 ms).
fn local_cold_reload(node: &mut Node, bytes: &[u8]) -> Duration {
    let sha256 = sandbar_runtime::sha256_hex(bytes);
    let start = Instant::now();
    std::fs::write(node.dir.path().join("dist/local.wasm"), bytes).unwrap();
    node.runtime.reload("local").unwrap();
    let deadline = start + Duration::from_secs(60);
    while node
        .runtime
        .generation("local")
        .is_none_or(|g| g.sha256() != sha256)
    {
        assert!(Instant::now() < deadline, "the local reload did not serve");
        std::thread::sleep(Duration::from_micros(200));
    }
    let elapsed = start.elapsed();
    node.push();
    elapsed
}

/// Time on a CPU of this process's threads whose name starts with
/// `prefix`, in ns from `/proc/self/task/*/schedstat` (the tick-sampled
/// `stat` times are too coarse for threads that run a few µs at a time).
fn thread_cpu(prefix: &str) -> Duration {
    process_cpu("self", prefix)
}

/// [`thread_cpu`] of process `pid` (`self` for this one).
fn process_cpu(pid: &str, prefix: &str) -> Duration {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += schedstat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(ns)
}

/// The nodes' heartbeat interval: `fleet.heartbeat_ms`'s default, or
/// `FLEET_BENCH_HEARTBEAT_MS` (100 beats 20 times as often: the stress
/// figure in BENCHMARKS.md).
fn heartbeat_ms() -> u64 {
    std::env::var("FLEET_BENCH_HEARTBEAT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(sandbar_runtime::config::FleetSection::default().heartbeat_ms)
}

/// One timed slice of round trips.
struct Slice {
    p50: f64,
    mean: f64,
    /// CPU time of the local nats-server during the slice.
    server: Duration,
}

fn percentile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let quick = support::quick();
    let store = tempfile::tempdir().unwrap();
    let server = nats::NatsServer::start(store.path());
    let url = server.url();
    let op = FleetClient::connect(&FleetSettings::client(&url, "bench")).unwrap();
    let built = support::components();
    let bytes = std::fs::read(support::component(&built, "sma-cross")).unwrap();
    let loader = Arc::new(Loader::new().unwrap());

    // deploy_to_3_nodes
    let mut nodes: Vec<Node> = (0..3)
        .map(|i| {
            let name = format!("n{i}");
            Node::start(&loader, Some((url.as_str(), name.as_str())), None)
        })
        .collect();
    let known = [
        support::with_marker(&bytes, 1),
        support::with_marker(&bytes, 2),
    ];
    let shas: Vec<String> = known.iter().map(|b| op.publish(b).unwrap().0).collect();
    for sha in &shas {
        until_all_serve(&op, &mut nodes, sha, || {});
    }
    let rounds = if quick { 2 } else { 30 };
    let mut known_times = Vec::new();
    for round in 0..rounds {
        known_times.push(until_all_serve(&op, &mut nodes, &shas[round % 2], || {}).1);
    }
    let new_rounds = if quick { 1 } else { 8 };
    let (mut new_times, mut new_first) = (Vec::new(), Vec::new());
    for round in 0..new_rounds {
        let fresh = support::with_marker(&bytes, 100 + round as u32);
        let sha = sandbar_runtime::sha256_hex(&fresh);
        let (first, all) = until_all_serve(&op, &mut nodes, &sha, || {
            op.publish(&fresh).unwrap();
        });
        new_first.push(first);
        new_times.push(all);
    }
    // The same on one node: three cold compiles of one build on this
    // machine's two cores are no fleet of machines, each compiling its own;
    // one node is what each of those would see.
    for node in nodes.split_off(1) {
        node.stop();
    }
    let mut single_times = Vec::new();
    for round in 0..new_rounds {
        let fresh = support::with_marker(&bytes, 150 + round as u32);
        let sha = sandbar_runtime::sha256_hex(&fresh);
        single_times.push(
            until_all_serve(&op, &mut nodes, &sha, || {
                op.publish(&fresh).unwrap();
            })
            .1,
        );
    }
    for node in nodes {
        node.stop();
    }
    println!(
        "deploy_to_3_nodes/known_build: p50 {:.1} ms, p90 {:.1} ms over {rounds} deploys",
        percentile(&mut known_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut known_times, 0.9).as_secs_f64() * 1e3
    );
    println!(
        "deploy_to_3_nodes/new_build (publish + deploy): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut new_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut new_times, 1.0).as_secs_f64() * 1e3
    );
    println!(
        "deploy_to_3_nodes/new_build, first node serving: p50 {:.1} ms, max {:.1} ms",
        percentile(&mut new_first, 0.5).as_secs_f64() * 1e3,
        percentile(&mut new_first, 1.0).as_secs_f64() * 1e3
    );

    println!(
        "deploy_to_1_node/new_build (publish + deploy): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut single_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut single_times, 1.0).as_secs_f64() * 1e3
    );

    // bar_loop_with_fleet: one node, its fleet agent running or stopped.
    // `fa` is retired first: the node must run its local strategy and
    // nothing more, or the ratio would count a second strategy.
    op.undeploy("fa").unwrap();
    let mut node = Node::start(&loader, Some((url.as_str(), "lat")), Some(&bytes));
    // The agent has caught up with the (empty) deployments once its
    // heartbeat names the node.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !op
        .status()
        .unwrap()
        .nodes
        .iter()
        .any(|beat| beat.node == "lat")
    {
        assert!(Instant::now() < deadline, "the node `lat` never joined");
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids: Vec<String> = node
        .runtime
        .status()
        .strategies
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["local"], "the node runs the local strategy only");
    // Its first load went live on the baseline tier: the tier-up's compile
    // must be over before a slice is timed.
    while node
        .runtime
        .generation("local")
        .is_none_or(|g| g.recipe.tier != sandbar_runtime::Tier::Optimized)
    {
        assert!(Instant::now() < deadline, "`local` never tiered up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let histogram = || Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    let (mut h_on, mut h_off) = (histogram(), histogram());
    let (cycles, slice) = if quick {
        (4, Duration::from_millis(50))
    } else {
        (60, Duration::from_millis(200))
    };
    for _ in 0..200 {
        node.round_trip();
    }
    // One slice of round trips: its p50 and mean, in ns, and what the
    // local nats-server ran meanwhile. Every slice starts after the same
    // pause (an agent that was just started settles in it), so the slices
    // differ in the agent only.
    let server_pid = server.pid().expect("the server runs").to_string();
    let run_slice = |node: &mut Node, h: &mut Histogram<u64>| {
        std::thread::sleep(Duration::from_millis(150));
        let server_before = process_cpu(&server_pid, "");
        let mut slice_h = histogram();
        let end = Instant::now() + slice;
        while Instant::now() < end {
            slice_h.record(node.round_trip().as_nanos() as u64).unwrap();
        }
        h.add(&slice_h).unwrap();
        Slice {
            p50: slice_h.value_at_quantile(0.5) as f64,
            mean: slice_h.mean(),
            server: process_cpu(&server_pid, "").saturating_sub(server_before),
        }
    };
    // A slice with the agent running (connected, past its start-up:
    // bucket opens, watch, first heartbeat), and the agent's CPU in it.
    let mut agent_cpu = Duration::ZERO;
    let mut on_time = Duration::ZERO;
    let mut on_slice = |node: &mut Node, h: &mut Histogram<u64>| {
        let (cpu, started) = (thread_cpu("sandbar-fleet"), Instant::now());
        let slice = run_slice(node, h);
        agent_cpu += thread_cpu("sandbar-fleet").saturating_sub(cpu);
        on_time += started.elapsed();
        slice
    };
    // Within one node, so the ratio compares the same loop, memory and
    // placement; the A/A control is two slices with the agent stopped.
    // The order alternates (on, off, off | off, off, on), so drift cancels,
    // and the slice compared with `on` is always the one beside it.
    let mut pairs: Vec<(Slice, Slice, Slice)> = Vec::new();
    let mut h_control = histogram();
    for i in 0..cycles {
        pairs.push(if i % 2 == 0 {
            let on = on_slice(&mut node, &mut h_on);
            node.stop_agent();
            let off = run_slice(&mut node, &mut h_off);
            let control = run_slice(&mut node, &mut h_control);
            (on, off, control)
        } else {
            let control = run_slice(&mut node, &mut h_control);
            let off = run_slice(&mut node, &mut h_off);
            node.start_agent();
            let on = on_slice(&mut node, &mut h_on);
            (on, off, control)
        });
    }
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
    for (name, h) in [("with_fleet", &h_on), ("without_fleet", &h_off)] {
        println!(
            "bar_loop_with_fleet/{name}: p50 {:.2} us, p99 {:.2} us, mean {:.2} us over {} bars",
            us(h, 0.5),
            us(h, 0.99),
            h.mean() / 1e3,
            h.len()
        );
    }
    let median_of = |f: &dyn Fn(&(Slice, Slice, Slice)) -> f64| {
        let mut v: Vec<f64> = pairs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "bar_loop_with_fleet: per-bar cost (slice p50) with/without the agent, median of {cycles} paired slices {:.4} (A/A control, two slices without it: {:.4}); slice means {:.3} (A/A {:.3}); overall mean ratio {:.3} (A/A {:.3})",
        median_of(&|(on, off, _)| on.p50 / off.p50),
        median_of(&|(_, off, control)| control.p50 / off.p50),
        median_of(&|(on, off, _)| on.mean / off.mean),
        median_of(&|(_, off, control)| control.mean / off.mean),
        h_on.mean() / h_off.mean(),
        h_control.mean() / h_off.mean(),
    );
    let server_ms = |pick: &dyn Fn(&(Slice, Slice, Slice)) -> Duration| {
        pairs.iter().map(pick).sum::<Duration>().as_secs_f64() * 1e3 / cycles as f64
    };
    println!(
        "bar_loop_with_fleet: the agent's threads used {:.2} ms of CPU in {:.1} s with it running ({:.3}% of one core; heartbeat every {} ms); the local nats-server ran {:.2} ms per slice with the agent, {:.2} ms without",
        agent_cpu.as_secs_f64() * 1e3,
        on_time.as_secs_f64(),
        agent_cpu.as_secs_f64() / on_time.as_secs_f64().max(1e-9) * 100.0,
        heartbeat_ms(),
        server_ms(&|(on, _, _)| on.server),
        server_ms(&|(_, off, _)| off.server),
    );
    node.stop();
    let mut without = Node::start(&loader, None, Some(&bytes));
    let mut cold_times: Vec<Duration> = (0..new_rounds)
        .map(|round| {
            let fresh = support::with_marker(&bytes, 200 + round as u32);
            local_cold_reload(&mut without, &fresh)
        })
        .collect();
    println!(
        "local_cold_reload (baseline of new_build): p50 {:.1} ms, max {:.1} ms over {new_rounds}",
        percentile(&mut cold_times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut cold_times, 1.0).as_secs_f64() * 1e3
    );
    without.stop();
}
