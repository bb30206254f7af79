"""HL7 FHIR R4 for triage: the questionnaire, the answers and the results as FHIR resources.

Everything is generated from the loaded knowledge base (the questions and the
vocabulary) as plain JSON-ready dicts, so no FHIR library is needed at run
time (``triage[fhir]`` adds nothing; the web routes come with ``triage[web]``):

- :mod:`~triage.fhir.common`: the canonical URLs, code systems and the small
  builders every other module shares (codings, deterministic ids);
- :mod:`~triage.fhir.questionnaire`: the knowledge base's questions as an SDC
  Questionnaire (``triage fhir questionnaire``, ``GET /fhir/Questionnaire/lbp-triage``);
- :mod:`~triage.fhir.response`: a QuestionnaireResponse to a case and back;
- :mod:`~triage.fhir.bundle`: a result as a Bundle (GuidanceResponse,
  RiskAssessment, ServiceRequest, CarePlan, Provenance), and an invalid case as
  an OperationOutcome;
- :mod:`~triage.fhir.operations`: ``$triage`` with its OperationDefinition,
  the SDC ``$next-question`` step on the questionnaire's state machine, and
  the CapabilityStatement of ``/fhir/metadata``.

Nothing here imports experta, except :mod:`~triage.fhir.operations` through
the Python API it drives.
"""
