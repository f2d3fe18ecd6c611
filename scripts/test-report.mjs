// A reporter for Node's test runner (used by scripts/test.mjs beside the spec reporter), in JSON lines: one per test
// as it ends, {"test": "pass" | "fail"}; one per test file when its process ends, {"file", "ms"} (from the process's
// start to its end); one per line of the run's closing summary, {"summary": "pass 12"} (TAP's "# pass 12").
export default async function* report(source) {
  for await (const { type, data } of source) {
    if (type === 'test:complete' && data.nesting === 0 && data.file && data.name === data.file) {
      yield `${JSON.stringify({ file: data.file, ms: data.details?.duration_ms ?? 0 })}\n`;
    } else if ((type === 'test:pass' || type === 'test:fail') && data.details?.type !== 'suite' && !data.skip && !data.todo) {
      yield `${JSON.stringify({ test: type === 'test:pass' ? 'pass' : 'fail' })}\n`;
    } else if (type === 'test:diagnostic' && data.nesting === 0 && !data.file) {
      yield `${JSON.stringify({ summary: data.message })}\n`;
    }
  }
}
