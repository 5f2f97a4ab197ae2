/**
 * The small demo lists a fresh data folder gets on first start, so that the README walkthrough
 * raises alerts with nothing imported. Placeholder terms and reserved domains only.
 */
import type { ListEntry, ListKind } from '../store/index.js';

export interface DemoList { name: string; kind: ListKind; entries: ListEntry[] }

export const DEMO_LISTS: readonly DemoList[] = [
  {
    name: 'demo-keywords',
    kind: 'keywords',
    entries: [
      { value: 'forbiddenword', label: 'high', ref: 'demo-kw-1' },
      { value: 'badword', label: 'medium', ref: 'demo-kw-2' },
      { value: 'secret meeting place', label: 'critical', ref: 'demo-kw-3' },
    ],
  },
  {
    name: 'demo-urls',
    kind: 'urls',
    entries: [
      { value: 'banned.example', label: 'banned-site', ref: 'demo-url-1' },
      { value: 'prohibited.test', label: 'B', ref: 'demo-url-2' },
      { value: 'http://files.example/forbidden/', label: 'A', ref: 'demo-url-3' },
    ],
  },
  {
    name: 'demo-apps',
    kind: 'apps',
    entries: [
      { value: 'com.example.hiddenchat', label: 'prohibited-app', ref: 'demo-app-1' },
      { value: 'org.example.vaultbrowser', label: 'prohibited-app', ref: 'demo-app-2' },
    ],
  },
];
