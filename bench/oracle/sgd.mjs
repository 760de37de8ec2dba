// sgd.mjs REPO FROM TO OUT      one delta
// sgd.mjs --batch JOBS.json     many: [{"repo","from","to","out"}, …]
//
// Runs sfdx-git-delta's delta in-process (the code its CLI runs) and writes
// OUT/package/package.xml and OUT/destructiveChanges/destructiveChanges.xml.
// The repository's .forceignore is passed as the ignore file, as pipelines do.
import fs from 'node:fs';
import path from 'node:path';
import sgd from 'sfdx-git-delta';

async function run({ repo, from, to, out }) {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const ignore = path.join(repo, '.forceignore');
  const cwd = process.cwd();
  process.chdir(repo);
  try {
    await sgd({
      repo: '.',
      from,
      to,
      output: out,
      source: ['./'],
      ignore: fs.existsSync(ignore) ? ignore : undefined,
      ignoreWhitespace: false,
      generateDelta: false,
    });
  } finally {
    process.chdir(cwd);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--batch') {
  const jobs = JSON.parse(fs.readFileSync(args[1], 'utf8'));
  for (const job of jobs) {
    const start = process.hrtime.bigint();
    try {
      await run(job);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      fs.writeFileSync(path.join(job.out, 'elapsed-ms'), String(ms));
    } catch (e) {
      fs.mkdirSync(job.out, { recursive: true });
      fs.writeFileSync(path.join(job.out, 'error'), String(e && e.stack ? e.stack : e));
    }
  }
} else {
  const [repo, from, to, out] = args;
  await run({ repo, from, to, out });
}
