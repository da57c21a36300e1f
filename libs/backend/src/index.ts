export { backendCandidates, type BackendCandidate, type CandidateOptions } from './candidates';
export { loadBackend, type BackendAttempt, type BackendReport, type LoadBackendOptions } from './load-backend';
export { PROOF_TOLERANCE, proveBackend } from './prove-backend';
