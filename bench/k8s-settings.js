// Settings of the Kubernetes benchmarks (bench/k8s.js), shared by the rows and the experiments. Plain
// constants from the environment; importing this file loads nothing else.
const env = process.env;

/** Services timed in each latency phase (creation, endpoint removal). */
export const LATENCY_SERVICES = Number(env.K8S_BENCH_SERVICES ?? 200);
/** One create (or endpoint removal) every PACE_MS; 0: each waits for the previous one's route. */
export const PACE_MS = Number(env.K8S_BENCH_PACE_MS ?? 25);
/** Services a restarted daemon finds, and the peers it announces them to. */
export const RECONCILE_SERVICES = Number(env.K8S_BENCH_RECONCILE_SERVICES ?? 5000);
export const RECONCILE_PEERS = 4;
/** The small cluster of the idle rows. */
export const SMALL_SERVICES = 20;
export const SMALL_PEERS = 2;
/** The BFD profile of the small cluster's BFD variant: both intervals in ms, and the Detect Mult. */
export const SMALL_BFD = { intervalMs: 300, detectMultiplier: 3 };
/** The idle window: K8S_BENCH_IDLE_SECONDS, default 30 s (5 s when CI=true). */
export const IDLE_MS = Number(env.K8S_BENCH_IDLE_SECONDS ?? (env.CI === 'true' ? 5 : 30)) * 1000;
/** The Node binary that runs the daemon (K8S_BENCH_DAEMON_NODE; default the one running the bench). */
export const DAEMON_NODE = env.K8S_BENCH_DAEMON_NODE || process.execPath;
/** Extra Node options for the daemon, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const DAEMON_NODE_ARGS = (env.K8S_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** The daemon's --log-level (K8S_BENCH_LOG_LEVEL, default info); debug adds when the daemon applied each change to the notes. */
export const DAEMON_LOG_LEVEL = env.K8S_BENCH_LOG_LEVEL ?? 'info';
/** The line of bench/k8s-experiments.js's output that carries its result (JSON follows). */
export const RESULT_MARK = '@@k8s-result ';
