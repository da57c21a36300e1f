import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// peft's file name (ADAPTER_CONFIG_FILE in @adalora/models, which loads tfjs: this module is read before the backend)
const ADAPTER_CONFIG = 'adapter_config.json';

/** An adapter's `task_type` (adapter_config.json), or null; a missing or broken file is reported by loadPeftAdapter. */
export function adapterTaskType(adapterDir: string): string | null {
  try {
    const json = JSON.parse(readFileSync(join(adapterDir, ADAPTER_CONFIG), 'utf8')) as { task_type?: unknown };
    return typeof json.task_type === 'string' ? json.task_type : null;
  } catch {
    return null;
  }
}
