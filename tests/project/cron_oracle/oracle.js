// The platform's cron grammar as the oracle for the differential test.
// stdin: {"groups": [{"expressions": [string...], "instants": [ms...]}...], "count": n}
// stdout: one list per group, one entry per expression:
//   {"ok": bool, "error": string?, "runs": [[ms...] | {"fires": [ms...], "error": string}...]}
// "runs" has one entry per instant of the group (fires strictly after it, UTC).
//
// Every answer is cron-parser's own: parseExpression, then next() from each instant, as the
// platform calls it. Only the date steps its search takes (CronDate.addSecond and the like, each
// a few luxon DateTime objects) are remembered: in UTC a step's result is a function of the
// instant it starts from, and the corpus's searches step through the same seconds, minutes and
// days again and again (every 5-field schedule walks the 59 seconds after each fire one by one).
// One step in CHECK_EVERY remembered ones is taken again and must land on the same instant.
//
// The parsed fields are left unfrozen. cron-parser freezes them (CronExpression._freezeFields),
// which only stops writes, and V8 walks a frozen array on a slow path: _findSchedule's
// isLInExpressions (an Array.prototype.some over the day-of-month and day-of-week lists) at
// every step was a fifth of the oracle's time. The library writes to them nowhere after
// parsing; each run checks that its expression's fields are still as parsed.
'use strict';
const parser = require('cron-parser');
const CronDate = require('cron-parser/lib/date');
const CronExpression = require('cron-parser/lib/expression');

CronExpression._freezeFields = (fields) => fields;

const STEPS = ['addYear', 'addMonth', 'addDay', 'addHour', 'addMinute', 'addSecond'];
const TESTS = ['isLastDayOfMonth', 'isLastWeekdayOfMonth'];
const CHECK_EVERY = 1024;
let reused = 0;

function remember(name, isTest) {
  const take = CronDate.prototype[name];
  const known = new Map();
  CronDate.prototype[name] = function () {
    if (this._date.zoneName !== 'UTC') return take.call(this);
    const from = this._date.valueOf();
    const found = known.get(from);
    if (found === undefined) {
      const answer = take.call(this);
      known.set(from, isTest ? answer : this._date);
      return answer;
    }
    if (++reused % CHECK_EVERY === 0) {
      const again = take.call(this);
      const same = isTest ? again === found : this._date.valueOf() === found.valueOf();
      if (!same) throw new Error(`oracle: CronDate.${name} from ${from} is not a function of the instant`);
    }
    if (isTest) return found;
    this._date = found;
    return undefined;
  };
}
STEPS.forEach((name) => remember(name, false));
TESTS.forEach((name) => remember(name, true));

function run(expression, instant, count) {
  const interval = parser.parseExpression(expression, { currentDate: new Date(instant), utc: true });
  const parsed = JSON.stringify(interval.fields);
  const fires = [];
  let error = null;
  try {
    for (let i = 0; i < count; i++) fires.push(interval.next().getTime());
  } catch (err) {
    error = String(err.message);
  }
  if (JSON.stringify(interval.fields) !== parsed) throw new Error(`oracle: next() changed the fields of ${expression}`);
  return error === null ? fires : { fires, error };
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
  const { groups, count } = JSON.parse(input);
  const answers = groups.map(({ expressions, instants }) => expressions.map((e) => evaluate(e, instants, count)));
  process.stdout.write(JSON.stringify(answers));
});
