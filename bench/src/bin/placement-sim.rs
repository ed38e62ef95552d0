//! Compares the placement policies of the memory-ushering study with the module's own code
//! (`mosix_core::placement`): memory utilisation of round robin, best fit, next fit and
//! migrate-smallest (global, and windowed: each decision sees only a few nodes, as a node
//! that knows the cluster through gossip would) against cluster size.
//!
//! The model: nodes of `--node-mib` MiB; processes arrive at random (Poisson) and live an
//! exponentially distributed time (mean 1); their sizes are exponentially distributed with
//! mean `--mean-mib` (at most a node). The offered memory is `--load` times the cluster's
//! memory, so a queue builds: a process waits (first come, first served) until the policy
//! finds it a place. Round robin assigns the next node in turn and waits for room there;
//! best and next fit take any node with room by their rule; migrate-smallest, when no node
//! has room, first moves the smallest process whose departure makes room. Utilisation is the
//! time average of the memory in use over the cluster's memory, after a warm-up.

use clap::Parser;
use mosix_core::placement::{choose, make_room, Bin, Policy, Resident};
use std::collections::{BinaryHeap, VecDeque};

/// Simulate memory placement policies with the module's code.
#[derive(Parser)]
struct Args {
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    nodes: Vec<usize>,
    /// Mean process sizes, MiB.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    mean_mib: Vec<u64>,
    /// Memory per node, MiB.
    #[arg(long, default_value_t = 128)]
    node_mib: u64,
    /// Offered memory over the cluster's memory.
    #[arg(long, default_value_t = 1.3)]
    load: f64,
    /// Simulated time, in mean lifetimes (the first tenth is warm-up).
    #[arg(long, default_value_t = 30.0)]
    time: f64,
    /// Nodes a windowed decision sees (its own and others at random).
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also draw the results into this PNG file.
    #[arg(long)]
    png: Option<std::path::PathBuf>,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What a run compares.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Static(Policy),
    Smallest { window: bool },
}

const VARIANTS: [(Variant, &str); 5] = [
    (Variant::Static(Policy::RoundRobin), "round robin"),
    (Variant::Static(Policy::BestFit), "best fit"),
    (Variant::Static(Policy::NextFit), "next fit"),
    (Variant::Smallest { window: false }, "migrate smallest"),
    (
        Variant::Smallest { window: true },
        "migrate smallest, windowed",
    ),
];

/// A departure: (negated end time in ns for the max-heap, process slot).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Departure(std::cmp::Reverse<u64>, usize);

struct Sim<'a> {
    a: &'a Args,
    rng: Rng,
    bins: Vec<Bin>,
    /// Process slots: `Some` while running.
    procs: Vec<Option<Resident>>,
    free_slots: Vec<usize>,
    cursor: usize,
    migrations: u64,
}

const KIB_PER_MIB: u64 = 1024;

impl Sim<'_> {
    fn place(
        &mut self,
        slot_size: u64,
        node: usize,
        lifetime: f64,
        now: f64,
        heap: &mut BinaryHeap<Departure>,
    ) {
        let r = Resident {
            node,
            size: slot_size,
            movable: true,
        };
        let k = match self.free_slots.pop() {
            Some(k) => {
                self.procs[k] = Some(r);
                k
            }
            None => {
                self.procs.push(Some(r));
                self.procs.len() - 1
            }
        };
        self.bins[node].free -= slot_size;
        heap.push(Departure(
            std::cmp::Reverse(((now + lifetime) * 1e9) as u64),
            k,
        ));
    }

    /// A window: `home` and `w - 1` other nodes at random (indices into `bins`).
    fn window(&mut self, home: usize) -> Vec<usize> {
        let n = self.bins.len();
        let mut w = vec![home];
        while w.len() < self.a.window.min(n) {
            let i = self.rng.below(n);
            if !w.contains(&i) {
                w.push(i);
            }
        }
        w
    }

    /// Tries to place the waiting process; whether it was placed.
    fn try_place(
        &mut self,
        v: Variant,
        size: u64,
        assigned: &mut Option<usize>,
        home: usize,
    ) -> Option<usize> {
        match v {
            Variant::Static(Policy::RoundRobin) => {
                let mut c = self.cursor;
                let node = *assigned.get_or_insert_with(|| {
                    choose(Policy::RoundRobin, &self.bins, size, &mut c).unwrap_or(0)
                });
                self.cursor = c;
                (self.bins[node].free >= size).then_some(node)
            }
            Variant::Static(p) => {
                let mut c = self.cursor;
                let r = choose(p, &self.bins, size, &mut c);
                self.cursor = c;
                r
            }
            Variant::Smallest { window } => {
                let idx: Vec<usize> = if window {
                    self.window(home)
                } else {
                    (0..self.bins.len()).collect()
                };
                let sub: Vec<Bin> = idx.iter().map(|&i| self.bins[i]).collect();
                let mut c = 0;
                if let Some(i) = choose(Policy::MigrateSmallest, &sub, size, &mut c) {
                    return Some(idx[i]);
                }
                // The processes on the visible nodes, with their slots.
                let mut slots = Vec::new();
                let mut res = Vec::new();
                for (k, p) in self.procs.iter().enumerate() {
                    if let Some(p) = p {
                        if let Some(j) = idx.iter().position(|&i| i == p.node) {
                            slots.push(k);
                            res.push(Resident { node: j, ..*p });
                        }
                    }
                }
                let (k, to) = make_room(&sub, &res, size)?;
                let slot = slots[k];
                let (from, to) = (idx[res[k].node], idx[to]);
                let p = self.procs[slot].as_mut()?;
                p.node = to;
                self.bins[from].free += p.size;
                self.bins[to].free -= p.size;
                self.migrations += 1;
                Some(from)
            }
        }
    }
}

/// Runs one variant on `n` nodes with mean size `mean_mib`: (utilisation, migrations per
/// process placed).
fn run(a: &Args, v: Variant, n: usize, mean_mib: u64) -> (f64, f64) {
    let node_kib = a.node_mib * KIB_PER_MIB;
    let mut sim = Sim {
        a,
        rng: Rng(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (n as u64) << 32 ^ mean_mib),
        bins: vec![
            Bin {
                free: node_kib,
                usable: true
            };
            n
        ],
        procs: Vec::new(),
        free_slots: Vec::new(),
        cursor: n.saturating_sub(1),
        migrations: 0,
    };
    let mean_kib = (mean_mib * KIB_PER_MIB) as f64;
    let rate = a.load * (n as u64 * node_kib) as f64 / mean_kib;
    let mut heap = BinaryHeap::new();
    let mut queue: VecDeque<(u64, f64, Option<usize>, usize)> = VecDeque::new();
    let (mut now, warm) = (0.0f64, a.time / 10.0);
    let mut next_arrival = sim.rng.exp(1.0 / rate);
    let (mut used_integral, mut placed) = (0.0f64, 0u64);
    let total = (n as u64 * node_kib) as f64;
    while now < a.time {
        let next_dep = heap
            .peek()
            .map_or(f64::INFINITY, |d: &Departure| d.0 .0 as f64 / 1e9);
        let t = next_arrival.min(next_dep).min(a.time);
        if t > warm {
            let used: u64 = sim.bins.iter().map(|b| node_kib - b.free).sum();
            used_integral += used as f64 * (t - now.max(warm));
        }
        now = t;
        // Only a departure frees memory, and only a new head is a new question: otherwise the
        // head waits without asking again.
        let mut retry = true;
        if next_arrival <= next_dep {
            retry = queue.is_empty();
            let size = (sim.rng.exp(mean_kib) as u64).clamp(4, node_kib);
            let life = sim.rng.exp(1.0);
            let home = sim.rng.below(n);
            // A bounded queue: beyond it arrivals are turned away (the head is what counts).
            if queue.len() < 100_000 {
                queue.push_back((size, life, None, home));
            }
            next_arrival = now + sim.rng.exp(1.0 / rate);
        } else if let Some(Departure(_, k)) = heap.pop() {
            if let Some(p) = sim.procs[k].take() {
                sim.bins[p.node].free += p.size;
                sim.free_slots.push(k);
            }
        }
        while let Some(head) = queue.front_mut().filter(|_| retry) {
            let (size, life, home) = (head.0, head.1, head.3);
            let mut assigned = head.2;
            let r = sim.try_place(v, size, &mut assigned, home);
            head.2 = assigned;
            match r {
                Some(node) => {
                    queue.pop_front();
                    sim.place(size, node, life, now, &mut heap);
                    if now > warm {
                        placed += 1;
                    }
                }
                None => break,
            }
        }
    }
    let util = used_integral / (total * (a.time - warm));
    (util, sim.migrations as f64 / placed.max(1) as f64)
}

fn main() {
    let a = Args::parse();
    println!(
        "# placement simulation: nodes of {} MiB, offered load {:.0}% of the memory, {} lifetimes, window {}, seed {}",
        a.node_mib,
        a.load * 100.0,
        a.time,
        a.window,
        a.seed
    );
    println!("# memory utilisation (%) by policy; migs = migrations per process placed (migrate smallest)");
    let mut all = Vec::new();
    for &mean in &a.mean_mib {
        println!("# mean process size {mean} MiB");
        print!("{:>6}", "nodes");
        for (_, name) in VARIANTS {
            print!(
                " {:>12}",
                name.replace("migrate smallest", "smallest")
                    .replace(", windowed", "-w")
            );
        }
        println!(" {:>8} {:>8}", "migs", "migs-w");
        let mut rows = Vec::new();
        for &n in &a.nodes {
            let r: Vec<(f64, f64)> = VARIANTS.iter().map(|(v, _)| run(&a, *v, n, mean)).collect();
            print!("{n:>6}");
            for (u, _) in &r {
                print!(" {:>12.1}", u * 100.0);
            }
            println!(" {:>8.3} {:>8.3}", r[3].1, r[4].1);
            rows.push((n, r));
        }
        all.push((mean, rows));
    }
    if let Some(path) = &a.png {
        if let Err(e) = plot(path, &all, &a) {
            eprintln!("placement-sim: {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("# plot: {}", path.display());
    }
}

type Rows = Vec<(usize, Vec<(f64, f64)>)>;

fn plot(path: &std::path::Path, all: &[(u64, Rows)], a: &Args) -> Result<(), String> {
    use plotters::prelude::*;
    mosix_bench::register_font()?;
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let root = BitMapBackend::new(path, (600 * all.len().max(1) as u32, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let panels = root.split_evenly((1, all.len().max(1)));
    let xmax = a.nodes.iter().copied().max().unwrap_or(2) as f64;
    for ((mean, rows), area) in all.iter().zip(panels.iter()) {
        let mut c = ChartBuilder::on(area)
            .caption(
                format!(
                    "Memory utilisation, mean size {mean} MiB ({} MiB nodes)",
                    a.node_mib
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(45)
            .build_cartesian_2d((1f64..xmax * 1.3).log_scale(), 0f64..100f64)
            .map_err(|x| e(&x))?;
        c.configure_mesh()
            .x_desc("nodes")
            .y_desc("utilisation (%)")
            .x_label_formatter(&|x| format!("{}", x.round() as u64))
            .draw()
            .map_err(|x| e(&x))?;
        for (vi, (_, name)) in VARIANTS.iter().enumerate() {
            let col = Palette99::pick(vi).to_rgba();
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|(n, r)| (*n as f64, r[vi].0 * 100.0))
                .collect();
            c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2))
                });
            c.draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled())))
                .map_err(|x| e(&x))?;
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}
