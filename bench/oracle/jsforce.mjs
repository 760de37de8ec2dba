// jsforce.mjs ORGS_JSON ZIP_PATH
// Drives a simulated org with jsforce (the library behind the Salesforce
// CLI) and prints one JSON line per operation: {"op", "ok", "detail"}.
// ORGS_JSON is what `trellis orgsim --json` printed.
import fs from 'node:fs';
import { Connection } from '@jsforce/jsforce-node';

const [orgsFile, zipPath] = process.argv.slice(2);
const org = JSON.parse(fs.readFileSync(orgsFile, 'utf8')).orgs[0];
const results = [];
async function step(op, fn) {
  try {
    const detail = await fn();
    results.push({ op, ok: true, detail: detail ?? '' });
  } catch (e) {
    results.push({ op, ok: false, detail: String(e && e.message ? e.message : e) });
  }
}
function must(cond, what) {
  if (!cond) throw new Error(what);
}

const conn = new Connection({
  oauth2: { loginUrl: org.login_url, clientId: org.client_id, clientSecret: org.client_secret },
  version: '64.0',
});

await step('oauth2 password login', async () => {
  const info = await conn.login(org.username, org.password);
  must(info.organizationId && conn.accessToken && conn.instanceUrl === org.instance_url, 'no session');
  return `user ${info.id}`;
});
await step('identity', async () => {
  const id = await conn.identity();
  must(id.username === org.username, 'wrong user ' + id.username);
  return id.username;
});
await step('query with a parent field', async () => {
  const r = await conn.query("SELECT Id, Name, Account.Name FROM Contact WHERE Account.Name LIKE 'Acme%' ORDER BY LastName");
  must(r.totalSize > 0 && r.records[0].Account.Name === 'Acme Corporation', JSON.stringify(r).slice(0, 200));
  return `${r.totalSize} contacts`;
});
await step('describeGlobal and describe', async () => {
  const g = await conn.describeGlobal();
  const d = await conn.sobject('Account').describe();
  must(g.sobjects.length >= 5 && d.fields.some((f) => f.name === 'Name'), 'describe');
  return `${g.sobjects.length} sobjects, Account has ${d.fields.length} fields`;
});
let created;
await step('sobject create, update, retrieve, delete', async () => {
  created = await conn.sobject('Account').create({ Name: 'jsforce Inc' });
  must(created.success && created.id, JSON.stringify(created));
  await conn.sobject('Account').update({ Id: created.id, Name: 'jsforce Ltd' });
  const rec = await conn.sobject('Account').retrieve(created.id);
  must(rec.Name === 'jsforce Ltd', JSON.stringify(rec).slice(0, 200));
  const del = await conn.sobject('Account').destroy(created.id);
  must(del.success, JSON.stringify(del));
  return created.id;
});
await step('sObject collections create (allOrNone)', async () => {
  const rs = await conn.sobject('Account').create([{ Name: 'A1' }, { Name: 'A2' }], { allOrNone: true });
  must(rs.length === 2 && rs.every((r) => r.success), JSON.stringify(rs));
  return `${rs.length} created`;
});
await step('limits', async () => {
  const l = await conn.limits();
  must(l.DailyApiRequests && l.DailyApiRequests.Max > 0, JSON.stringify(l).slice(0, 200));
  return `DailyApiRequests ${l.DailyApiRequests.Remaining}/${l.DailyApiRequests.Max}`;
});
let deployId;
await step('metadata deploy + checkDeployStatus', async () => {
  const zip = fs.readFileSync(zipPath);
  const res = await conn.metadata.deploy(zip, { rollbackOnError: true, singlePackage: true }).complete(true);
  deployId = res.id;
  must(res.status === 'Succeeded' && res.success === true, JSON.stringify(res).slice(0, 400));
  return `${res.id} ${res.status}, ${res.numberComponentsDeployed} components`;
});
await step('metadata list', async () => {
  const l = await conn.metadata.list([{ type: 'ApexClass' }]);
  const arr = Array.isArray(l) ? l : [l];
  must(arr.some((x) => x.fullName === 'Greeter'), JSON.stringify(l).slice(0, 300));
  return `${arr.length} classes`;
});
await step('metadata retrieve + checkRetrieveStatus', async () => {
  const res = await conn.metadata
    .retrieve({ apiVersion: '64.0', singlePackage: true, unpackaged: { types: [{ name: 'ApexClass', members: ['*'] }], version: '64.0' } })
    .complete();
  must(res.success && res.zipFile && res.zipFile.length > 100, JSON.stringify(res).slice(0, 300));
  return `zip ${res.zipFile.length} base64 chars`;
});
await step('metadata describe', async () => {
  const d = await conn.metadata.describe('64.0');
  must(d.metadataObjects.length > 100, 'types');
  return `${d.metadataObjects.length} types`;
});
await step('metadata REST deploy', async () => {
  const zip = fs.readFileSync(zipPath);
  const res = await conn.metadata.deployRest(zip, { checkOnly: true, testLevel: 'RunLocalTests', singlePackage: true });
  must(res.id, JSON.stringify(res).slice(0, 200));
  let st;
  for (let i = 0; i < 100; i++) {
    st = await conn.metadata.checkDeployStatus(res.id, true);
    if (st.done === true || st.done === 'true') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  must(st.status === 'Succeeded', JSON.stringify(st).slice(0, 300));
  return `${res.id} validated`;
});
await step('tooling query', async () => {
  const r = await conn.tooling.query("SELECT Id, Name FROM ApexClass WHERE Name LIKE 'Greeter%'");
  must(r.totalSize === 2, JSON.stringify(r).slice(0, 200));
  return `${r.totalSize} classes`;
});
await step('tooling runTestsAsynchronous + ApexTestResult', async () => {
  const job = await conn.tooling.request({ method: 'POST', url: '/tooling/runTestsAsynchronous', body: JSON.stringify({ classNames: 'GreeterTest' }), headers: { 'content-type': 'application/json' } });
  must(typeof job === 'string' && job.startsWith('707'), JSON.stringify(job));
  let results;
  for (let i = 0; i < 100; i++) {
    results = await conn.tooling.query(`SELECT Id, MethodName, Outcome FROM ApexTestResult WHERE AsyncApexJobId = '${job}'`);
    if (results.totalSize > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  must(results.totalSize === 1 && results.records[0].Outcome === 'Pass', JSON.stringify(results).slice(0, 300));
  return `job ${job}: ${results.records[0].MethodName} ${results.records[0].Outcome}`;
});
await step('bulk2 query', async () => {
  const rs = await conn.bulk2.query('SELECT Id, Name FROM Account');
  const rows = [];
  for await (const r of rs) rows.push(r);
  must(rows.length >= 20 && rows[0].Name, JSON.stringify(rows.slice(0, 2)));
  return `${rows.length} rows`;
});

for (const r of results) console.log(JSON.stringify(r));
process.exit(results.every((r) => r.ok) ? 0 : 1);
