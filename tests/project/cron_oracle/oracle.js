// The platform's cron grammar as the oracle for the differential test.
// stdin: {"expressions": [string...], "instants": [ms...], "count": n}
// stdout: [{"ok": bool, "error": string?, "runs": [[ms...] | {"fires": [ms...], "error": string}...]}]
// one entry per expression; "runs" has one entry per instant (fires strictly after it, UTC).
'use strict';
const parser = require('cron-parser');

function run(expression, instant, count) {
  const interval = parser.parseExpression(expression, { currentDate: new Date(instant), utc: true });
  const fires = [];
  try {
    for (let i = 0; i < count; i++) fires.push(interval.next().getTime());
  } catch (err) {
    return { fires, error: String(err.message) };
  }
  return fires;
}

function evaluate(expression, instants, count) {
  try {
    parser.parseExpression(expression, { utc: true });
  } catch (err) {
    return { ok: false, error: String(err.message) };
  }
  return { ok: true, runs: instants.map((instant) => run(expression, instant, count)) };
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { expressions, instants, count } = JSON.parse(input);
  process.stdout.write(JSON.stringify(expressions.map((e) => evaluate(e, instants, count))));
});
