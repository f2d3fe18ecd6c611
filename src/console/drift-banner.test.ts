import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driftBanner } from './drift-banner.ts';

const drift = (paused: boolean) => ({
  pipeline: 'clouddm-data-change',
  version: 3,
  provider: 'dingtalk',
  definitionCode: 'PROC-1',
  status: 'drift' as const,
  findings: [{ problem: 'field "database": the DingTalk form has no widget with title "关联库"; there is "关联数据库"', remedy: 'rename the widget back to "关联库" in the DingTalk form designer, or map the field to "关联数据库"' }],
  since: new Date('2026-11-20T08:00:00Z'),
  checkedAt: new Date('2026-11-20T09:00:00Z'),
  paused,
  onDrift: paused ? ('pause' as const) : ('warn' as const),
  liveVersion: 3,
});

test('the drift banner, in English and Chinese: the pipeline, its IM definition, since when, paused or not, each finding with its remedy', () => {
  const en = driftBanner('en', drift(true)).text;
  assert.match(en, /^<div class="banner drift paused" id="drift-clouddm-data-change" data-pipeline="clouddm-data-change" data-paused="true" role="alert">/);
  assert.match(en, /Pipeline clouddm-data-change no longer matches its DingTalk approval definition PROC-1: since <time datetime="2026-11-20T08:00:00.000Z" data-local="second">2026-11-20 08:00:00 UTC<\/time> \(version checked: v3\)/);
  assert.match(en, /Paused \(on_drift: pause\): new tickets are refused at the check node with a comment saying the process is under maintenance/);
  assert.match(en, /<li>field &quot;database&quot;: the DingTalk form has no widget with title &quot;关联库&quot;; there is &quot;关联数据库&quot;<br><span class="remedy">Fix: rename the widget back to &quot;关联库&quot;/);
  const zh = driftBanner('zh', drift(false)).text;
  assert.match(zh, /^<div class="banner drift" id="drift-clouddm-data-change"[^>]*data-paused="false"/);
  assert.match(zh, /流水线 clouddm-data-change 与它在钉钉的审批定义 PROC-1 不再一致：自 <time[^>]*>2026-11-20 08:00:00 UTC<\/time> 起（检查的版本 v3）/);
  assert.match(zh, /仅告警（on_drift: warn）：工单照常进行。/);
  assert.match(zh, /修复：rename the widget back/);
});

test("a pausing pipeline whose live version is not the one found drifted says so, not 'warning only'", () => {
  // v3 drifted; v4 went live and its own check has not found a drift (yet): its tickets are not refused.
  const en = driftBanner('en', { ...drift(false), onDrift: 'pause', liveVersion: 4 }).text;
  assert.match(en, /data-paused="false"/);
  assert.doesNotMatch(en, /Warning only/);
  assert.match(en, /v4 is live and was not found drifted: its tickets are not refused \(on_drift: pause applies once a check of v4 finds a drift\)/);
  assert.match(driftBanner('zh', { ...drift(false), onDrift: 'pause', liveVersion: 4 }).text, /当前上线的 v4/);
});
