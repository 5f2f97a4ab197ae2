/**
 * The part of autocannon's programmatic API the suite uses (the package ships no types).
 * https://github.com/mcollina/autocannon#api
 */
declare module 'autocannon' {
  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }
  export interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    headers?: Record<string, string>;
    requests?: AutocannonRequest[];
  }
  /** hdr-histogram-percentiles-obj: min, max, average, stddev and p2_5 ... p99_999. */
  export interface AutocannonHistogram {
    min: number; max: number; average: number; stddev: number; total?: number;
    p2_5: number; p50: number; p75: number; p90: number; p97_5: number; p99: number; p99_9: number;
  }
  export interface AutocannonResult {
    requests: AutocannonHistogram & { total: number; sent: number };
    latency: AutocannonHistogram;
    throughput: AutocannonHistogram;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult> & { stop(): void };
}
