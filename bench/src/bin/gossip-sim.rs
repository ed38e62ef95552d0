//! Simulates load gossip on N nodes with the module's own code (`mosix_core::gossip`).
//!
//! Every node runs `Gossip::prepare`/`Gossip::receive` exactly as `mosix.ko` does; only the
//! network (instant, lossless delivery) and the clock (one simulated clock, each node with its
//! own phase and ±10% jitter per interval) are simulated.
//!
//! Prints, for each cluster size: the mean and maximum age of the entries a node holds in its
//! window (its `W` freshest entries, what it sends and what the balancer weighs), the fraction
//! of nodes that have heard one node's change after k intervals, and bytes sent per node per
//! interval.

use clap::Parser;
use mosix_core::{
    gossip::{Counters, Gossip, Header, LoadEntry, Slot, FLAG_REPLY, MAX_PACKET, MAX_WINDOW},
    map::{MapEntry, NodeTable},
};
use std::{cmp::Reverse, collections::BinaryHeap};

/// Simulate openMosix load gossip with the module's code.
#[derive(Parser)]
struct Args {
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "4,16,64,256,1024,4096")]
    nodes: Vec<u32>,
    /// Window W.
    #[arg(long, default_value_t = 20)]
    window: usize,
    /// Down timeout, in intervals (the module's default: 6000 ms at 1000 ms).
    #[arg(long, default_value_t = 6)]
    timeout: i64,
    /// Intervals of warm-up before measuring.
    #[arg(long, default_value_t = 10)]
    warmup: i64,
    /// Change trials (one node changes its load; how fast does it spread?).
    #[arg(long, default_value_t = 30)]
    trials: i64,
    /// Intervals followed per trial.
    #[arg(long, default_value_t = 10)]
    follow: i64,
    /// Push only (no reply to a push).
    #[arg(long)]
    push_only: bool,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also draw the results into this PNG file.
    #[arg(long)]
    png: Option<std::path::PathBuf>,
}

const INTERVAL: i64 = 1000;
/// IPv4 + UDP headers.
const UDP_IP: u64 = 28;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }
}

struct Node {
    view: Vec<Slot>,
    seq: u64,
    load: u32,
    counters: Counters,
}

struct Sim {
    table: NodeTable,
    nodes: Vec<Node>,
    key: [u8; 16],
    timeout_ms: i64,
    window: usize,
    push_only: bool,
    rng: Rng,
    buf: Vec<u8>,
    scratch: Vec<LoadEntry>,
}

impl Sim {
    fn new(n: u32, a: &Args) -> Sim {
        let mut table = NodeTable::new();
        table
            .push(
                MapEntry {
                    first: 1,
                    addr: 0x0a00_0001,
                    count: n,
                },
                1,
            )
            .expect("table");
        let nodes = (0..n)
            .map(|_| Node {
                view: vec![Slot::default(); n as usize],
                seq: 0,
                load: 0,
                counters: Counters::default(),
            })
            .collect();
        Sim {
            table,
            nodes,
            key: *b"simulation-key!!",
            timeout_ms: a.timeout * INTERVAL,
            window: a.window,
            push_only: a.push_only,
            rng: Rng(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            buf: vec![0; MAX_PACKET],
            scratch: vec![LoadEntry::default(); MAX_WINDOW + 1],
        }
    }

    /// Node `i` sends to `to` (None: random push); the receiver merges and maybe replies.
    /// Returns the receivers that merged something.
    fn send(&mut self, i: usize, to: Option<usize>, now: i64, touched: &mut Vec<usize>) {
        let reply = to.is_some();
        let rnd = self.rng.next();
        let node = &mut self.nodes[i];
        node.seq += 1;
        let hdr = Header {
            flags: if reply { FLAG_REPLY } else { 0 },
            sender: i as u32 + 1,
            epoch: 1,
            seq: node.seq,
            dest: 0,
        };
        let own = LoadEntry {
            id: i as u32 + 1,
            load: node.load,
            cpus: 2,
            speed: 10000,
            util: 100,
            ..Default::default()
        };
        let g = Gossip {
            table: &self.table,
            view: &mut node.view,
            self_id: i as u32 + 1,
            now_ms: now,
            timeout_ms: self.timeout_ms,
        };
        let Some(out) = g.prepare(
            &self.key,
            &own,
            &hdr,
            to,
            self.window,
            rnd,
            &mut self.scratch,
            &mut self.buf,
        ) else {
            return;
        };
        node.counters.sent += 1;
        node.counters.sent_bytes += out.len as u64 + UDP_IP;
        let dst = &mut self.nodes[out.to];
        let mut g = Gossip {
            table: &self.table,
            view: &mut dst.view,
            self_id: out.to as u32 + 1,
            now_ms: now,
            timeout_ms: self.timeout_ms,
        };
        match g.receive(
            Some(&self.key),
            0x0a00_0001 + i as u32,
            &self.buf[..out.len],
        ) {
            Ok(r) => {
                dst.counters.received += 1;
                touched.push(out.to);
                if r.wants_reply && !self.push_only {
                    self.send(out.to, Some(r.sender), now, touched);
                }
            }
            Err(e) => panic!("simulated packet dropped: {e:?}"),
        }
    }
}

/// Ages (ms) of the `w` freshest up entries node `i` holds, itself excluded.
fn window_ages(view: &[Slot], i: usize, w: usize, now: i64, timeout: i64, out: &mut Vec<i64>) {
    out.clear();
    out.extend(
        view.iter()
            .enumerate()
            .filter(|(j, s)| *j != i && s.is_up(now, timeout))
            .map(|(_, s)| s.age(now)),
    );
    if out.len() > w && w > 0 {
        out.select_nth_unstable(w - 1);
    }
    out.truncate(w);
}

struct SimResult {
    n: u32,
    mean_age: f64,
    max_age: f64,
    p99_age: f64,
    up_fraction: f64,
    heard: Vec<f64>,
    all_heard: Vec<f64>,
    bytes: f64,
    packets: f64,
}

fn run(n: u32, a: &Args) -> SimResult {
    let mut sim = Sim::new(n, a);
    let mut q: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    for i in 0..n as usize {
        q.push(Reverse((sim.rng.below(INTERVAL as u64) as i64, i)));
    }
    let start = a.warmup * INTERVAL;
    let end = start + a.trials * a.follow * INTERVAL;
    let mut next_sample = start;
    let mut ages = Vec::new();
    let (mut age_sum, mut age_cnt, mut max_age) = (0f64, 0u64, 0i64);
    let mut all_ages: Vec<i64> = Vec::new();
    let mut up_sum = 0f64;
    let mut samples = 0u64;
    // Trials: (node, marker, t0, first-heard time per node).
    let mut trial: Option<(usize, u32, i64, Vec<i64>)> = None;
    let mut latencies: Vec<Vec<i64>> = Vec::new();
    let mut next_trial = start;
    let mut touched = Vec::new();
    let sent_at_start: u64;
    {
        // Warm-up.
        while let Some(&Reverse((t, i))) = q.peek() {
            if t >= start {
                break;
            }
            q.pop();
            touched.clear();
            sim.send(i, None, t, &mut touched);
            let jitter = sim.rng.below(INTERVAL as u64 / 5) as i64 - INTERVAL / 10;
            q.push(Reverse((t + INTERVAL + jitter, i)));
        }
        sent_at_start = sim.nodes.iter().map(|x| x.counters.sent_bytes).sum();
    }
    while let Some(Reverse((t, i))) = q.pop() {
        if t >= end {
            break;
        }
        while next_sample <= t {
            for (k, node) in sim.nodes.iter().enumerate() {
                window_ages(
                    &node.view,
                    k,
                    a.window,
                    next_sample,
                    sim.timeout_ms,
                    &mut ages,
                );
                for &x in &ages {
                    age_sum += x as f64;
                    age_cnt += 1;
                    max_age = max_age.max(x);
                    all_ages.push(x);
                }
                let up = node
                    .view
                    .iter()
                    .enumerate()
                    .filter(|(j, s)| *j != k && s.is_up(next_sample, sim.timeout_ms))
                    .count();
                up_sum += up as f64 / f64::from(n - 1).max(1.0);
            }
            samples += 1;
            next_sample += INTERVAL;
        }
        if t >= next_trial {
            if let Some((_, _, _, heard)) = trial.take() {
                latencies.push(heard);
            }
            let c = sim.rng.below(u64::from(n)) as usize;
            let marker = 1_000_000 + latencies.len() as u32;
            sim.nodes[c].load = marker;
            let mut heard = vec![i64::MAX; n as usize];
            heard[c] = 0;
            trial = Some((c, marker, t, heard));
            next_trial += a.follow * INTERVAL;
        }
        touched.clear();
        sim.send(i, None, t, &mut touched);
        if let Some((c, marker, t0, heard)) = trial.as_mut() {
            for &r in &touched {
                if heard[r] == i64::MAX && sim.nodes[r].view[*c].entry.load == *marker {
                    heard[r] = t - *t0;
                }
            }
        }
        let jitter = sim.rng.below(INTERVAL as u64 / 5) as i64 - INTERVAL / 10;
        q.push(Reverse((t + INTERVAL + jitter, i)));
    }
    if let Some((_, _, _, heard)) = trial.take() {
        latencies.push(heard);
    }
    let k_max = a.follow as usize;
    let mut heard = vec![0f64; k_max + 1];
    let mut all_heard = vec![0f64; k_max + 1];
    for lat in &latencies {
        for (k, h) in heard.iter_mut().enumerate() {
            let lim = k as i64 * INTERVAL;
            let got = lat.iter().filter(|&&x| x <= lim).count() - 1;
            *h += got as f64 / f64::from(n - 1).max(1.0) / latencies.len() as f64;
            if got == n as usize - 1 {
                all_heard[k] += 1.0 / latencies.len() as f64;
            }
        }
    }
    all_ages.sort_unstable();
    let p99 = all_ages
        .get(all_ages.len() * 99 / 100)
        .copied()
        .unwrap_or(0);
    let total: u64 = sim.nodes.iter().map(|x| x.counters.sent_bytes).sum();
    let sent: u64 = sim.nodes.iter().map(|x| x.counters.sent).sum();
    let span = (end - start) as f64 / INTERVAL as f64;
    SimResult {
        n,
        mean_age: age_sum / age_cnt.max(1) as f64 / INTERVAL as f64,
        max_age: max_age as f64 / INTERVAL as f64,
        p99_age: p99 as f64 / INTERVAL as f64,
        up_fraction: up_sum / (samples as f64 * f64::from(n)),
        heard,
        all_heard,
        bytes: (total - sent_at_start) as f64 / f64::from(n) / span,
        packets: sent as f64 / f64::from(n) / ((end as f64) / INTERVAL as f64),
    }
}

fn main() {
    let a = Args::parse();
    println!(
        "# gossip simulation: window {}, timeout {} intervals, {}, {} trials x {} intervals, seed {}",
        a.window,
        a.timeout,
        if a.push_only { "push only" } else { "push-pull" },
        a.trials,
        a.follow,
        a.seed
    );
    println!("# ages in intervals; heard(k) = fraction of the other nodes holding a change k intervals after it; all(k) = trials where every node had it");
    print!(
        "{:>6} {:>8} {:>8} {:>8} {:>6} {:>9} {:>8}",
        "nodes", "mean_age", "p99_age", "max_age", "up", "bytes/int", "pkts/int"
    );
    for k in 1..=4 {
        print!(" {:>8}", format!("heard({k})"));
    }
    for k in 1..=3 {
        print!(" {:>7}", format!("all({k})"));
    }
    println!();
    let mut results = Vec::new();
    for &n in &a.nodes {
        let r = run(n, &a);
        print!(
            "{:>6} {:>8.2} {:>8.2} {:>8.2} {:>6.3} {:>9.0} {:>8.2}",
            r.n, r.mean_age, r.p99_age, r.max_age, r.up_fraction, r.bytes, r.packets
        );
        for k in 1..=4 {
            print!(" {:>8.3}", r.heard[k]);
        }
        for k in 1..=3 {
            print!(" {:>7.2}", r.all_heard[k]);
        }
        println!();
        results.push(r);
    }
    if let Some(path) = &a.png {
        if let Err(e) = plot(path, &results, &a) {
            eprintln!("gossip-sim: {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("# plot: {}", path.display());
    }
}

fn plot(path: &std::path::Path, rs: &[SimResult], a: &Args) -> Result<(), String> {
    use plotters::prelude::*;
    mosix_bench::register_font()?;
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let (left, right) = root.split_horizontally(600);
    let xmax = rs.iter().map(|r| r.n).max().unwrap_or(4) as f64;
    let ymax = rs.iter().map(|r| r.max_age).fold(2.5f64, f64::max).ceil();
    let mut c = ChartBuilder::on(&left)
        .caption(
            format!("Age of the {} entries a node holds (intervals)", a.window),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(45)
        .build_cartesian_2d((2f64..xmax * 1.5).log_scale(), 0f64..ymax)
        .map_err(|x| e(&x))?;
    c.configure_mesh()
        .x_desc("nodes")
        .y_desc("age (gossip intervals)")
        .draw()
        .map_err(|x| e(&x))?;
    type Series = (&'static str, RGBColor, fn(&SimResult) -> f64);
    let series: [Series; 3] = [
        ("mean", BLUE, |r| r.mean_age),
        ("p99", GREEN, |r| r.p99_age),
        ("max", RED, |r| r.max_age),
    ];
    for (name, col, f) in series {
        let pts: Vec<(f64, f64)> = rs.iter().map(|r| (f64::from(r.n), f(r))).collect();
        c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
        c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled())))
            .map_err(|x| e(&x))?;
    }
    let goal = RGBColor(120, 120, 120);
    c.draw_series(LineSeries::new(
        vec![(2.0, 2.0), (xmax * 1.5, 2.0)],
        goal.stroke_width(3),
    ))
    .map_err(|x| e(&x))?
    .label("goal: mean <= 2")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], goal.stroke_width(3)));
    c.configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|x| e(&x))?;
    let kmax = rs.first().map_or(1, |r| r.heard.len() - 1) as f64;
    let mut c = ChartBuilder::on(&right)
        .caption(
            "Nodes that have heard a change, after k intervals",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..kmax, 0f64..1.02f64)
        .map_err(|x| e(&x))?;
    c.configure_mesh()
        .x_desc("k (gossip intervals)")
        .y_desc("fraction of the other nodes")
        .draw()
        .map_err(|x| e(&x))?;
    for (i, r) in rs.iter().enumerate() {
        let col = Palette99::pick(i).to_rgba();
        let pts: Vec<(f64, f64)> = r
            .heard
            .iter()
            .enumerate()
            .map(|(k, &h)| (k as f64, h))
            .collect();
        c.draw_series(LineSeries::new(pts, col.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(format!("{} nodes", r.n))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
