// sdr.mjs manifest DIR          prints package.xml of every component
// sdr.mjs convert DIR OUT       converts source format to metadata format
// sdr.mjs tosource MDDIR OUT    converts metadata format to source format
// with @salesforce/source-deploy-retrieve, the library the Salesforce CLI uses.
import fs from 'node:fs';
import { ComponentSet, MetadataConverter } from '@salesforce/source-deploy-retrieve';

const [cmd, dir, out] = process.argv.slice(2);
if (cmd === 'tosource') {
  // Some types (custom labels) are only decomposed inside an SFDX project,
  // so OUT becomes one whose package directory is force-app.
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(`${out}/force-app`, { recursive: true });
  fs.writeFileSync(`${out}/sfdx-project.json`, JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }] }));
  const md = ComponentSet.fromSource(fs.realpathSync(dir));
  process.chdir(out);
  await new MetadataConverter().convert(md, 'source', { type: 'directory', outputDirectory: 'force-app', genUniqueDir: false });
  process.exit(0);
}
const project = JSON.parse(fs.readFileSync(`${dir}/sfdx-project.json`, 'utf8'));
const paths = project.packageDirectories.map((p) => `${dir}/${p.path}`).filter((p) => fs.existsSync(p));
const cs = ComponentSet.fromSource(paths);
if (cmd === 'manifest') {
  process.stdout.write(await cs.getPackageXml());
} else if (cmd === 'convert') {
  fs.rmSync(out, { recursive: true, force: true });
  await new MetadataConverter().convert(cs, 'metadata', { type: 'directory', outputDirectory: out, genUniqueDir: false });
} else {
  console.error('usage: sdr.mjs manifest DIR | convert DIR OUT | tosource MDDIR OUT');
  process.exit(2);
}
