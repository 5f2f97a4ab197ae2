/*
 * A device swarm in C, for the ingest benchmark's question with less of the machine spent on the load.
 *
 * bench/swarm-load.ts drives the same open-loop schedule from Node: on this 2-core machine it takes 0.75-0.9 of a
 * core at 50,000 events/s, of which about 44% is its own JavaScript and Node's stream machinery (twelfth session,
 * bench/README.md). This program does the same socket work (one write a device a 2 ms tick, frames read from one
 * buffer a socket) with nothing else, so that the difference between the two generators is what the load itself
 * costs the server. bench/ingest.ts compiles it (`cc -O2`) and runs it with `--generator c`.
 *
 * Input: a spec file written by bench/ingest.ts (see writeSpec there): host, port, per-device rate, warm-up,
 * measured and settle seconds, seed, the device tokens and the mix's events as MessagePack map entries (hex).
 * The schedule is swarm-load.ts's: events due at `issued / perMs` after the start, each to a device drawn at random,
 * latency from the intended send time. Output: `measure` and `end` on lines of their own as the measured interval
 * starts and ends (the orchestrator samples the server then), then one line of JSON with the figures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 2.0
#define READ_CAP (256 * 1024)
#define OUT_CAP (64 * 1024)
#define MAX_EVENT_BYTES 4096

typedef struct { uint8_t *bytes; uint32_t len; uint16_t count; } Event;

typedef struct {
  int fd;
  int ready;     /* hello read */
  int upgraded;  /* 101 read */
  int closed;
  uint32_t low;  /* every seq <= low is settled */
  uint32_t high; /* the highest seq sent */
  double *times; /* intended send time of each outstanding seq (ring, by seq & mask); < 0: rejected */
  uint8_t *measured;
  uint32_t mask;
  uint8_t *in;
  size_t inLen;
  uint8_t *out;
  size_t outLen;
  int dirty;
} Device;

static Device *devices;
static int deviceCount;
static Event *events;
static int eventCount;
static double *latencies, *lags;
static size_t latencyCount, latencyCap, lagCount, lagCap;
static long sentTotal, ackedInWindow, rejectedTotal, skipped, closes, measuredOutstanding;
static char rejectCodes[8][32];
static long rejectCounts[8];
static int rejectKinds;
static int measuring, windowOpen;
static double measureStart = 1e300;

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wallMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)(ts.tv_sec * 1000LL + ts.tv_nsec / 1000000);
}

static void die(const char *what) {
  fprintf(stderr, "devices: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static void push(double **xs, size_t *n, size_t *cap, double x) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 65536;
    *xs = realloc(*xs, *cap * sizeof(double));
    if (!*xs) die("out of memory");
  }
  (*xs)[(*n)++] = x;
}

static uint64_t rng;
static double random01(void) { /* xorshift64* */
  rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- MessagePack, only what the server's hello, ack and reject frames hold ---- */

typedef struct { const uint8_t *p; const uint8_t *end; int bad; } Reader;

static uint64_t readUint(Reader *r, int width) {
  uint64_t v = 0;
  if (r->end - r->p < width) { r->bad = 1; return 0; }
  for (int i = 0; i < width; i++) v = v << 8 | *r->p++;
  return v;
}

static int skipValue(Reader *r);

/* A string's bytes and length, or -1 when the value is not a string. */
static long readStr(Reader *r, const uint8_t **s) {
  if (r->p >= r->end) { r->bad = 1; return -1; }
  uint8_t b = *r->p;
  long n;
  if ((b & 0xe0) == 0xa0) { r->p++; n = b & 0x1f; }
  else if (b == 0xd9) { r->p++; n = (long)readUint(r, 1); }
  else if (b == 0xda) { r->p++; n = (long)readUint(r, 2); }
  else return -1;
  if (r->end - r->p < n) { r->bad = 1; return -1; }
  *s = r->p;
  r->p += n;
  return n;
}

/* A non-negative integer, or -1 when the value is something else (skipped). */
static int64_t readInt(Reader *r) {
  if (r->p >= r->end) { r->bad = 1; return -1; }
  uint8_t b = *r->p;
  if (b < 0x80) { r->p++; return b; }
  if (b >= 0xcc && b <= 0xcf) { r->p++; return (int64_t)readUint(r, 1 << (b - 0xcc)); }
  skipValue(r);
  return -1;
}

static int skipN(Reader *r, uint64_t n) {
  if ((uint64_t)(r->end - r->p) < n) { r->bad = 1; return 0; }
  r->p += n;
  return 1;
}

static int skipValue(Reader *r) {
  if (r->p >= r->end) { r->bad = 1; return 0; }
  uint8_t b = *r->p++;
  if (b < 0x80 || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return 1;
  if ((b & 0xe0) == 0xa0) return skipN(r, b & 0x1f);
  if ((b & 0xf0) == 0x90) { for (int i = 0; i < (b & 0x0f); i++) if (!skipValue(r)) return 0; return 1; }
  if ((b & 0xf0) == 0x80) { for (int i = 0; i < 2 * (b & 0x0f); i++) if (!skipValue(r)) return 0; return 1; }
  switch (b) {
    case 0xcc: case 0xd0: return skipN(r, 1);
    case 0xcd: case 0xd1: return skipN(r, 2);
    case 0xce: case 0xd2: case 0xca: return skipN(r, 4);
    case 0xcf: case 0xd3: case 0xcb: return skipN(r, 8);
    case 0xd9: case 0xc4: return skipN(r, readUint(r, 1));
    case 0xda: case 0xc5: return skipN(r, readUint(r, 2));
    case 0xdb: case 0xc6: return skipN(r, readUint(r, 4));
    case 0xdc: { uint64_t n = readUint(r, 2); for (uint64_t i = 0; i < n; i++) if (!skipValue(r)) return 0; return 1; }
    case 0xdd: { uint64_t n = readUint(r, 4); for (uint64_t i = 0; i < n; i++) if (!skipValue(r)) return 0; return 1; }
    case 0xde: { uint64_t n = readUint(r, 2); for (uint64_t i = 0; i < 2 * n; i++) if (!skipValue(r)) return 0; return 1; }
    case 0xdf: { uint64_t n = readUint(r, 4); for (uint64_t i = 0; i < 2 * n; i++) if (!skipValue(r)) return 0; return 1; }
    default: r->bad = 1; return 0;
  }
}

/* ---- the devices' side of the protocol ---- */

static void settle(Device *d, uint32_t upTo, double now) {
  if (upTo > d->high) upTo = d->high;
  for (; d->low < upTo; ) {
    uint32_t seq = ++d->low;
    double t = d->times[seq & d->mask];
    if (t < 0) continue; /* rejected */
    if (windowOpen) ackedInWindow++;
    if (d->measured[seq & d->mask]) { measuredOutstanding--; push(&latencies, &latencyCount, &latencyCap, now - t); }
  }
}

/* A reject: its seq is settled. Its code is counted only for a measured event, as swarm-load.ts counts them, so
 * that the figures of the two generators are of the same events (not the warm-up's and the settling's too). */
static void reject(Device *d, int64_t seq, const uint8_t *code, long codeLen) {
  rejectedTotal++;
  if (seq <= d->low || seq > d->high) return;
  uint32_t i = (uint32_t)seq & d->mask;
  int measuredNow = d->times[i] >= 0 && d->measured[i];
  d->times[i] = -1;
  if (!measuredNow) return;
  measuredOutstanding--;
  if (codeLen <= 0 || codeLen > 31) return;
  for (int k = 0; k < rejectKinds; k++) {
    if ((long)strlen(rejectCodes[k]) == codeLen && memcmp(rejectCodes[k], code, codeLen) == 0) { rejectCounts[k]++; return; }
  }
  if (rejectKinds < 8) { memcpy(rejectCodes[rejectKinds], code, codeLen); rejectCodes[rejectKinds][codeLen] = 0; rejectCounts[rejectKinds++] = 1; }
}

static void onMessage(Device *d, const uint8_t *p, size_t n, double now) {
  Reader r = { p, p + n, 0 };
  if (r.p >= r.end) return;
  uint8_t h = *r.p++;
  long entries = (h & 0xf0) == 0x80 ? (h & 0x0f) : h == 0xde ? (long)readUint(&r, 2) : -1;
  if (entries < 0) return;
  char type[16] = "";
  int64_t upTo = -1, lastSeq = -1, seq = -1;
  const uint8_t *code = NULL;
  long codeLen = -1;
  for (long i = 0; i < entries && !r.bad; i++) {
    const uint8_t *k;
    long kl = readStr(&r, &k);
    if (kl < 0) return;
    const uint8_t *s;
    if (kl == 4 && memcmp(k, "type", 4) == 0) {
      long sl = readStr(&r, &s);
      if (sl > 0 && sl < 16) { memcpy(type, s, sl); type[sl] = 0; }
    } else if (kl == 4 && memcmp(k, "upTo", 4) == 0) upTo = readInt(&r);
    else if (kl == 7 && memcmp(k, "lastSeq", 7) == 0) lastSeq = readInt(&r);
    else if (kl == 3 && memcmp(k, "seq", 3) == 0) seq = readInt(&r);
    else if (kl == 4 && memcmp(k, "code", 4) == 0) codeLen = readStr(&r, &code);
    else skipValue(&r);
  }
  if (r.bad) return;
  if (strcmp(type, "ack") == 0 && upTo >= 0) settle(d, (uint32_t)upTo, now);
  else if (strcmp(type, "reject") == 0) reject(d, seq, code, codeLen);
  else if (strcmp(type, "hello") == 0 && lastSeq >= 0) { d->low = d->high = (uint32_t)lastSeq; d->ready = 1; }
}

/* A control frame (a pong) to go out with the device's next write; dropped if its unsent bytes are full. */
static void queue(Device *d, const uint8_t *frame, size_t n) {
  if (d->outLen + n > OUT_CAP) return;
  memcpy(d->out + d->outLen, frame, n);
  d->outLen += n;
  d->dirty = 1;
}

static void flush(Device *d) {
  if (d->closed || d->outLen == 0) return;
  ssize_t w = write(d->fd, d->out, d->outLen);
  if (w < 0) { if (errno != EAGAIN) { d->closed = 1; closes++; } return; }
  memmove(d->out, d->out + w, d->outLen - (size_t)w);
  d->outLen -= (size_t)w;
  d->dirty = d->outLen > 0; /* what the socket did not take goes on the next tick */
}

/* Reads what the socket has and handles every whole frame in it. Returns 0 once the socket is closed. */
static int onReadable(Device *d, double now) {
  for (;;) {
    ssize_t n = read(d->fd, d->in + d->inLen, READ_CAP - d->inLen);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { if (!d->closed) closes++; d->closed = 1; return 0; }
    if (n < 0) return 1;
    d->inLen += (size_t)n;
    size_t off = 0;
    if (!d->upgraded) {
      uint8_t *end = memmem(d->in, d->inLen, "\r\n\r\n", 4);
      if (!end) continue;
      if (d->inLen < 12 || memcmp(d->in, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "devices: upgrade refused: %.*s\n", (int)(memchr(d->in, '\r', d->inLen) ? (uint8_t *)memchr(d->in, '\r', d->inLen) - d->in : 40), d->in);
        exit(1);
      }
      d->upgraded = 1;
      off = (size_t)(end - d->in) + 4;
    }
    while (d->inLen - off >= 2) {
      uint8_t *f = d->in + off;
      uint64_t len = f[1] & 0x7f;
      size_t head = 2;
      if (len == 126) { if (d->inLen - off < 4) break; len = (uint64_t)f[2] << 8 | f[3]; head = 4; }
      else if (len == 127) { if (d->inLen - off < 10) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i]; head = 10; }
      /* Not `head + len > READ_CAP`: a 64-bit length near 2^64 wraps that sum past the check. */
      if (len > READ_CAP - head) { fprintf(stderr, "devices: server frame of %llu bytes\n", (unsigned long long)len); exit(1); }
      if (d->inLen - off < head + len) break;
      int opcode = f[0] & 0x0f;
      if (opcode == 2) onMessage(d, f + head, (size_t)len, now);
      else if (opcode == 8) { d->closed = 1; closes++; return 0; }
      else if (opcode == 9 && len <= 125) { /* pong, masked with a zero key */
        uint8_t pong[6 + 125] = { 0x8a, (uint8_t)(0x80 | len), 0, 0, 0, 0 };
        memcpy(pong + 6, f + head, (size_t)len);
        queue(d, pong, 6 + (size_t)len);
      }
      off += head + (size_t)len;
    }
    memmove(d->in, d->in + off, d->inLen - off);
    d->inLen -= off;
  }
}

/* One event to a device: the map header, the mix's encoded entries, `seq` (uint32) and `at` (float64). An event that
 * finds the device's unsent bytes full (the server has stopped reading it) is not sent and takes no seq. */
static void sendEvent(Device *d, const Event *e, double intended, double at) {
  size_t payload = 3 + e->len + 9 + 12;
  size_t frameLen = (payload < 126 ? 2 : 4) + 4 + payload;
  if (!d->ready || d->closed || d->outLen + frameLen > OUT_CAP) { if (measuring) skipped++; return; }
  uint32_t seq = ++d->high;
  if (d->high - d->low > d->mask) { /* the ring is full: grow it, keeping each seq's slot */
    uint32_t cap = (d->mask + 1) * 2;
    double *times = malloc(cap * sizeof(double));
    uint8_t *measured = malloc(cap);
    if (!times || !measured) die("out of memory");
    for (uint32_t s = d->low + 1; s < seq; s++) { times[s & (cap - 1)] = d->times[s & d->mask]; measured[s & (cap - 1)] = d->measured[s & d->mask]; }
    free(d->times); free(d->measured);
    d->times = times; d->measured = measured; d->mask = cap - 1;
  }
  int isMeasured = measuring && intended >= measureStart;
  d->times[seq & d->mask] = intended;
  d->measured[seq & d->mask] = (uint8_t)isMeasured;
  if (isMeasured) measuredOutstanding++;
  sentTotal++;
  uint8_t *frame = d->out + d->outLen;
  size_t o = 0;
  frame[o++] = 0x82;
  if (payload < 126) frame[o++] = (uint8_t)(0x80 | payload);
  else { frame[o++] = 0x80 | 126; frame[o++] = (uint8_t)(payload >> 8); frame[o++] = (uint8_t)payload; }
  memset(frame + o, 0, 4); o += 4; /* mask key 0 */
  frame[o++] = 0xde; frame[o++] = (uint8_t)((e->count + 2) >> 8); frame[o++] = (uint8_t)(e->count + 2);
  memcpy(frame + o, e->bytes, e->len); o += e->len;
  memcpy(frame + o, "\xa3seq\xce", 5); o += 5;
  frame[o++] = (uint8_t)(seq >> 24); frame[o++] = (uint8_t)(seq >> 16); frame[o++] = (uint8_t)(seq >> 8); frame[o++] = (uint8_t)seq;
  memcpy(frame + o, "\xa2" "at\xcb", 4); o += 4;
  uint64_t bits; memcpy(&bits, &at, 8);
  for (int i = 7; i >= 0; i--) frame[o++] = (uint8_t)(bits >> (8 * i));
  d->outLen += o;
  d->dirty = 1;
}

static int cmpDouble(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(double *xs, size_t n, double q) {
  if (n == 0) return -1;
  size_t i = (size_t)(q * (double)(n - 1) + 0.5);
  return xs[i < n ? i : n - 1];
}

static void printQuantiles(const char *name, double *xs, size_t n) {
  qsort(xs, n, sizeof(double), cmpDouble);
  printf("\"%s\":{\"count\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}", name, n,
    quantile(xs, n, 0.5), quantile(xs, n, 0.9), quantile(xs, n, 0.99), quantile(xs, n, 0.999), n ? xs[n - 1] : -1);
}

static double cpuMs(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e3 + u.ru_utime.tv_usec / 1e3 + u.ru_stime.tv_sec * 1e3 + u.ru_stime.tv_usec / 1e3;
}

static int hexValue(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: devices SPEC_FILE\n"); return 2; }
  FILE *spec = fopen(argv[1], "r");
  if (!spec) die(argv[1]);
  char host[64];
  int port;
  double rate, warmup, seconds, settleSeconds;
  unsigned long long seed;
  if (fscanf(spec, "%63s %d %lf %lf %lf %lf %llu %d", host, &port, &rate, &warmup, &seconds, &settleSeconds, &seed, &deviceCount) != 8
      || deviceCount < 1 || deviceCount > 100000 || rate <= 0) {
    fprintf(stderr, "devices: malformed spec header\n");
    return 2;
  }
  rng = seed * 0x9e3779b97f4a7c15ULL + 1;
  devices = calloc((size_t)deviceCount, sizeof(Device));
  char **tokens = calloc((size_t)deviceCount, sizeof(char *));
  if (!devices || !tokens) die("out of memory");
  for (int i = 0; i < deviceCount; i++) {
    char tok[512];
    if (fscanf(spec, "%511s", tok) != 1) { fprintf(stderr, "devices: spec has fewer tokens than devices\n"); return 2; }
    tokens[i] = strdup(tok);
  }
  if (fscanf(spec, "%d", &eventCount) != 1 || eventCount < 1) { fprintf(stderr, "devices: spec has no events\n"); return 2; }
  events = calloc((size_t)eventCount, sizeof(Event));
  static char hex[2 * MAX_EVENT_BYTES + 2];
  for (int i = 0; i < eventCount; i++) {
    unsigned count;
    if (fscanf(spec, "%u %8193s", &count, hex) != 2) { fprintf(stderr, "devices: spec event %d is malformed\n", i); return 2; }
    size_t n = strlen(hex) / 2;
    if (strlen(hex) % 2 != 0 || n > MAX_EVENT_BYTES - 64) { fprintf(stderr, "devices: spec event %d is too long\n", i); return 2; }
    events[i].bytes = malloc(n);
    events[i].len = (uint32_t)n;
    events[i].count = (uint16_t)count;
    for (size_t j = 0; j < n; j++) {
      int hi = hexValue(hex[2 * j]), lo = hexValue(hex[2 * j + 1]);
      if (hi < 0 || lo < 0) { fprintf(stderr, "devices: spec event %d is not hex\n", i); return 2; }
      events[i].bytes[j] = (uint8_t)(hi << 4 | lo);
    }
  }
  fclose(spec);

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "devices: host must be an IPv4 address, not %s\n", host); return 2; }
  for (int i = 0; i < deviceCount; i++) {
    Device *d = &devices[i];
    d->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (d->fd < 0) die("socket");
    int one = 1;
    setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(d->fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    char req[1024];
    int n = snprintf(req, sizeof req, "GET /v1/device HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dmlnaWwtZGV2aWNlcy0xMg==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n", host, port, tokens[i]);
    if (write(d->fd, req, (size_t)n) != n) die("write upgrade");
    d->mask = 15;
    d->times = malloc(16 * sizeof(double));
    d->measured = malloc(16);
    d->in = malloc(READ_CAP);
    d->out = malloc(OUT_CAP);
    if (!d->times || !d->measured || !d->in || !d->out) die("out of memory");
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = d };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev) < 0) die("epoll_ctl");
    /* Non-blocking from here on: reads drain what is there, writes that would block keep the rest. */
    int flags = 1;
    if (ioctl(d->fd, FIONBIO, &flags) < 0) die("FIONBIO");
  }
  struct epoll_event ready[256];
  /* Every device's hello, within 60 s. */
  int hellos = 0;
  double connectDeadline = nowMs() + 60000;
  while (hellos < deviceCount) {
    if (nowMs() > connectDeadline) { fprintf(stderr, "devices: %d of %d hellos within 60 s\n", hellos, deviceCount); return 1; }
    int n = epoll_wait(ep, ready, 256, 100);
    for (int i = 0; i < n; i++) {
      Device *d = ready[i].data.ptr;
      int was = d->ready;
      if (!onReadable(d, nowMs())) { fprintf(stderr, "devices: a device's socket closed before its hello\n"); return 1; }
      if (!was && d->ready) hellos++;
    }
  }
  fprintf(stderr, "devices: %d connected\n", deviceCount);

  double perMs = rate * deviceCount / 1000.0;
  double t0 = nowMs();
  double measureAt = t0 + warmup * 1000, endAt = measureAt + seconds * 1000, settleUntil = endAt + settleSeconds * 1000;
  double nextTick = t0, cpuStart = 0, cpuEnd = 0, measureEnd = 0;
  long issued = 0;
  int sending = 1, eventIndex = 0;
  for (;;) {
    double now = nowMs();
    if (sending && now >= nextTick) {
      if (!measuring && now >= measureAt) {
        measuring = windowOpen = 1;
        measureStart = now;
        cpuStart = cpuMs();
        printf("measure\n");
        fflush(stdout);
      }
      if (now >= endAt) {
        sending = 0;
        windowOpen = 0;
        measureEnd = now;
        cpuEnd = cpuMs();
        printf("end\n");
        fflush(stdout);
      } else {
        double wall = wallMs();
        long due = (long)((now - t0) * perMs);
        for (; issued < due; issued++) {
          double intended = t0 + issued / perMs;
          Device *d = &devices[(int)(random01() * deviceCount)];
          sendEvent(d, &events[eventIndex], intended, wall);
          eventIndex = (eventIndex + 1) % eventCount;
          if (measuring && intended >= measureStart) push(&lags, &lagCount, &lagCap, now - intended);
        }
        for (int i = 0; i < deviceCount; i++) if (devices[i].dirty) flush(&devices[i]);
        while (nextTick <= now) nextTick += TICK_MS;
      }
    }
    if (!sending && (measuredOutstanding <= 0 || now >= settleUntil)) break;
    double wait = sending ? nextTick - nowMs() : 50;
    int n = epoll_wait(ep, ready, 256, wait > 0 ? (int)(wait + 0.999) : 0);
    double at = nowMs();
    for (int i = 0; i < n; i++) onReadable(ready[i].data.ptr, at);
    /* Pongs queued by the reads go out at once. */
    for (int i = 0; i < n; i++) { Device *d = ready[i].data.ptr; if (d->dirty && !sending) flush(d); }
  }
  double windowSeconds = (measureEnd - measureStart) / 1000;
  printf("{\"seconds\":%.3f,\"sent\":%ld,\"ackedPerSecond\":%.0f,\"cpuPercent\":%.1f,\"unacked\":%ld,\"skipped\":%ld,\"closes\":%ld,\"rejected\":%ld,\"rejects\":{",
    windowSeconds, sentTotal, ackedInWindow / windowSeconds, (cpuEnd - cpuStart) / (measureEnd - measureStart) * 100,
    measuredOutstanding > 0 ? measuredOutstanding : 0, skipped, closes, rejectedTotal);
  for (int k = 0; k < rejectKinds; k++) printf("%s\"%s\":%ld", k ? "," : "", rejectCodes[k], rejectCounts[k]);
  printf("},");
  printQuantiles("ack", latencies, latencyCount);
  printf(",");
  printQuantiles("sendLag", lags, lagCount);
  printf("}\n");
  return 0;
}
