// Validates FHIR R4 bundle files with two validators that know nothing of Haven:
//
//   1. FHIR.js (npm `fhir`): R4 structure, cardinality, types and required bindings.
//   2. fhirpath.js (npm `fhirpath`, R4 model): the R4 specification's invariants for the
//      resources Haven writes (Bundle bdl-*, Consent ppc-*, Composition cmp-*, Period
//      per-1, Reference ref-1, DomainResource dom-*), evaluated on every entry.
//
// Plus what neither does and fhir.md asks for: every reference resolves to an entry of
// the bundle, narratives are XHTML divs, NHS numbers pass Modulus 11.
//
//   node tests/fhir/validate.mjs FILE...
//
// Prints one line per problem ("FILE: VALIDATOR: WHERE: WHAT") and exits 1 if any was
// an error; FHIR.js's warnings and information are printed but do not fail.

import { readFileSync } from 'node:fs';
import fhirModule from 'fhir';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

const { Fhir } = fhirModule;
const structure = new Fhir();

// The R4 invariants (expressions as published in the R4 specification, 4.0.1), by the
// resource or element type they apply to. ppc-2..5 compare against the real consent
// scope system; the published text says system='something', which never matches.
const SCOPE = "'http://terminology.hl7.org/CodeSystem/consentscope'";
const INVARIANTS = {
  Bundle: {
    'bdl-1': "total.empty() or (type = 'searchset') or (type = 'history')",
    'bdl-2': "entry.search.empty() or (type = 'searchset')",
    'bdl-3': "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
    'bdl-4': "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
    'bdl-5': 'entry.all(resource.exists() or request.exists() or response.exists())',
    'bdl-7': "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&iif(resource.meta.versionId.exists(), resource.meta.versionId, '')).isDistinct()",
    'bdl-8': "entry.all(fullUrl.exists().not() or fullUrl.contains('/_history/').not())",
    'bdl-9': "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
    'bdl-10': "type = 'document' implies (timestamp.hasValue())",
    'bdl-11': "type = 'document' implies entry.first().resource.is(Composition)",
    'bdl-12': "type = 'message' implies entry.first().resource.is(MessageHeader)",
  },
  DomainResource: {
    'dom-2': 'contained.contained.empty()',
    'dom-3': "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).empty()",
    'dom-4': 'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()',
    'dom-5': 'contained.meta.security.empty()',
    'per-1': 'descendants().where($this is Period).all(start.hasValue().not() or end.hasValue().not() or (start <= end))',
    'ref-1': "descendants().where($this is Reference).all(reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id))",
  },
  Consent: {
    'ppc-1': 'policy.exists() or policyRule.exists()',
    'ppc-2': `patient.exists() or scope.coding.where(system=${SCOPE} and code='patient-privacy').exists().not()`,
    'ppc-3': `patient.exists() or scope.coding.where(system=${SCOPE} and code='research').exists().not()`,
    'ppc-4': `patient.exists() or scope.coding.where(system=${SCOPE} and code='adr').exists().not()`,
    'ppc-5': `patient.exists() or scope.coding.where(system=${SCOPE} and code='treatment').exists().not()`,
  },
  Composition: {
    'cmp-1': 'section.all(text.exists() or entry.exists() or section.exists())',
    'cmp-2': 'section.all(emptyReason.empty() or entry.empty())',
  },
  Encounter: {
    // fhir.md: class is required and virtual.
    'uk-enc-class': "class.exists() and class.system = 'http://terminology.hl7.org/CodeSystem/v3-ActCode' and class.code = 'VR'",
  },
};

function invariantProblems(resource, root) {
  const problems = [];
  const sets = [INVARIANTS.DomainResource, INVARIANTS[resource.resourceType] ?? {}];
  if (resource.resourceType === 'Bundle') sets.shift();
  for (const set of sets) {
    for (const [key, expression] of Object.entries(set)) {
      let result;
      try {
        result = fhirpath.evaluate(resource, expression, { resource, rootResource: root ?? resource }, r4);
      } catch (e) {
        problems.push(`${resource.resourceType}: ${key} could not be evaluated: ${e.message}`);
        continue;
      }
      if (result.includes(false)) problems.push(`${resource.resourceType}: invariant ${key} fails: ${expression}`);
    }
  }
  return problems;
}

function nhsNumberValid(value) {
  if (!/^[0-9]{10}$/.test(value)) return false;
  const digits = [...value].map(Number);
  const sum = digits.slice(0, 9).reduce((s, d, i) => s + d * (10 - i), 0);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === digits[9];
}

function walk(value, path, visit) {
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  else if (value && typeof value === 'object') {
    visit(value, path);
    for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, visit);
  }
}

function bundleProblems(bundle) {
  const problems = [];
  const urls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
  walk(bundle, 'Bundle', (node, path) => {
    if (typeof node.reference === 'string' && !urls.has(node.reference)) {
      problems.push(`${path}: reference ${node.reference} does not resolve inside the bundle`);
    }
    if (typeof node.div === 'string' && !/^<div xmlns="http:\/\/www\.w3\.org\/1999\/xhtml">[\s\S]*<\/div>$/.test(node.div)) {
      problems.push(`${path}: narrative is not an XHTML div`);
    }
    if (node.system === 'https://fhir.nhs.uk/Id/nhs-number' && !nhsNumberValid(String(node.value))) {
      problems.push(`${path}: NHS number fails Modulus 11`);
    }
  });
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(e.fullUrl ?? '')) {
      problems.push(`Bundle.entry[${i}]: fullUrl ${e.fullUrl} is not a urn:uuid`);
    }
  }
  return problems;
}

let errors = 0;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate.mjs FILE...');
  process.exit(2);
}
for (const file of files) {
  let bundle;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`${file}: read: ${e.message}`);
    errors += 1;
    continue;
  }
  const result = structure.validate(bundle, { errorOnUnexpected: true });
  for (const m of result.messages ?? []) {
    const error = m.severity === 'error';
    if (error) errors += 1;
    console.log(`${file}: fhir.js ${m.severity}: ${m.location}: ${m.message}`);
  }
  const fhirpathProblems = invariantProblems(bundle);
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    if (e.resource) {
      fhirpathProblems.push(...invariantProblems(e.resource, e.resource).map((p) => `entry[${i}] ${p}`));
    }
  }
  for (const p of fhirpathProblems) console.log(`${file}: fhirpath error: ${p}`);
  for (const p of bundleProblems(bundle)) console.log(`${file}: bundle error: ${p}`);
  errors += fhirpathProblems.length + bundleProblems(bundle).length;
}
console.log(`${files.length} file(s), ${errors} error(s)`);
process.exit(errors === 0 ? 0 : 1);
