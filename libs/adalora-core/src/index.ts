export { moduleId, matchesTarget, type ModuleId } from './module-id';
