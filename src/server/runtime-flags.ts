/**
 * How the service's Node process is started wherever it runs: the image (Dockerfile `ENV`), `npm start`
 * and the bench's server process all take these, so the bench measures what ships; a test holds the
 * Dockerfile and package.json to them.
 *
 * Left to itself V8 sizes the heap from the machine's memory. On a large host that means a young
 * generation of 2 × 64 MB and an old generation allowed to grow to 4× its live size before a full GC,
 * whose freed pages V8 then keeps pooled: 430+ MB RSS for a 50 MB live heap at 5,000 nodes. A pod
 * with a 1 GiB limit gets smaller defaults from its cgroup; a bench host or a laptop does not. Stated
 * here, the heap is the same everywhere: with an old generation of at most 512 MB V8 grows it by about
 * 1.3× before collecting, and a 16 MB semi-space keeps the young generation at 32 MB while leaving
 * the per-call garbage of a 5,000-node call to die young.
 */
export const SERVICE_NODE_OPTIONS: readonly string[] = ['--max-old-space-size=512', '--max-semi-space-size=16'];

/**
 * glibc gives each thread that mallocs its own arena (up to 8 per core), and each arena keeps what it
 * once held; the service's native allocations are few, so two arenas are plenty.
 */
export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
