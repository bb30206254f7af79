"""The names of the file formats triage reads and writes, each list defined once here.

Apart from the readers (:mod:`triage.casefiles`) and the writers
(:mod:`triage.formats`) so that the command line can offer the names without
importing those, and YAML with them, before a command runs.
"""

from __future__ import annotations

#: The case file formats ``read_cases`` reads (it also takes "auto": detect them).
INPUT_FORMATS = ("yaml", "json", "jsonl", "csv")
#: The result formats ``make_writer`` writes (``fhir``: one FHIR Bundle, or an
#: OperationOutcome for an invalid case, a line: FHIR NDJSON).
OUTPUT_FORMATS = ("jsonl", "json", "yaml", "csv", "table", "fhir")
#: The output format a file's extension names (``--output results.csv``); no
#: extension names ``fhir`` (FHIR NDJSON is ``.ndjson`` like JSON Lines): give ``--format fhir``.
OUTPUT_FORMAT_BY_EXTENSION = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
                              ".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".txt": "table"}
