import { runDriverConformance } from './driver.conformance.js';
import { MemoryDriver } from './memory.js';

runDriverConformance('memory', () => new MemoryDriver());
