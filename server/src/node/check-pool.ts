// Runs checkFiles over batches of files (one directory each) on worker threads. The worker is the
// calling bundle itself (the CLI or the language server), started again as a worker thread.
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { newGoParser } from '../engine/parser';
import { allRules } from '../rules';
import { checkFiles, type Batch, type CheckResult } from './check';
import { initGoForNode } from './grammar';

interface WorkerInput { racelensCheckWorker: true; ruleIds: readonly string[]; overlay?: ReadonlyMap<string, string> }

export interface PoolOptions {
  /** The bundle to start as a worker; it must call serveChecks() when isCheckWorker(). */
  entry: string;
  jobs: number;
  ruleIds: readonly string[];
  overlay?: ReadonlyMap<string, string>;
}

/** A batch's result, and whether the worker should hand over to a fresh one (see serveChecks). */
interface WorkerReply { result: CheckResult; retire: boolean }

/** Hands out the batches, largest first as given, to `jobs` workers; reports each batch's result. */
export async function checkInWorkers(batches: readonly Batch[], opts: PoolOptions, onResult: (batch: Batch, result: CheckResult) => void): Promise<void> {
  const queue = [...batches];
  const jobs = Math.max(1, Math.min(opts.jobs, queue.length));
  const input: WorkerInput = { racelensCheckWorker: true, ruleIds: opts.ruleIds, overlay: opts.overlay };
  await Promise.all(Array.from({ length: jobs }, () => new Promise<void>((resolve, reject) => {
    const start = () => {
      const worker = new Worker(opts.entry, { workerData: input });
      let current: Batch | undefined;
      let finished = false;
      const next = () => {
        current = queue.shift();
        if (current) worker.postMessage(current);
        else {
          finished = true;
          void worker.terminate().then(() => resolve());
        }
      };
      worker.on('message', (msg: WorkerReply | 'ready') => {
        if (msg !== 'ready' && current) {
          onResult(current, msg.result);
          if (msg.retire && queue.length) {
            finished = true;
            void worker.terminate();
            start();
            return;
          }
        }
        next();
      });
      worker.on('error', (e) => {
        queue.length = 0; // the others stop after their batch; the caller decides what to redo
        reject(e);
      });
      worker.on('exit', (code) => { if (!finished) reject(new Error(`a check worker exited (code ${code}) before its work was done`)); });
    };
    start();
  })));
}

/**
 * WebAssembly memory only grows: a worker whose parser and trees took more than this for one
 * package retires after it, and a fresh worker takes the rest, so the peak is not held to the end.
 */
const RETIRE_ABOVE_BYTES = 96 * 1024 * 1024;

export function isCheckWorker(): boolean {
  return !isMainThread && (workerData as WorkerInput | undefined)?.racelensCheckWorker === true;
}

/** The worker side: parses and analyses each batch it is sent. */
export async function serveChecks(): Promise<void> {
  const { ruleIds, overlay } = workerData as WorkerInput;
  const rules = allRules.filter((r) => ruleIds.includes(r.id));
  await initGoForNode();
  const parser = newGoParser();
  parentPort!.on('message', (batch: Batch) => {
    const result = checkFiles(parser, batch, rules, overlay);
    const reply: WorkerReply = { result, retire: process.memoryUsage().external > RETIRE_ABOVE_BYTES };
    parentPort!.postMessage(reply);
  });
  parentPort!.postMessage('ready');
}
