import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serve, type ServerType } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import { PipelineMetrics } from './metrics.js';
import type { QueueSettings } from './queues.js';

/**
 * `recon dashboard`: Bull Board for the pipeline queue at `/` (jobs by state, each flow's tree, failed
 * reasons, retry and clean buttons) and Prometheus metrics at `/metrics`. Binds 127.0.0.1 by default:
 * the board can retry and delete jobs, so put it behind your own authentication before exposing it.
 * Hono with @hono/node-server is the HTTP layer (small, no install scripts).
 */
export interface Dashboard {
  url: string;
  metrics: PipelineMetrics;
  close(): Promise<void>;
}

export async function startDashboard(opts: { queue: Queue; settings: QueueSettings; db?: Database; port: number; host?: string; log: Logger; readOnly?: boolean }): Promise<Dashboard> {
  const board = new HonoAdapter(serveStatic);
  board.setBasePath('/ui');
  createBullBoard({
    queues: [new BullMQAdapter(opts.queue, { readOnlyMode: opts.readOnly === true })],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'walletrecon' } },
  });
  const metrics = new PipelineMetrics({ queue: opts.queue, settings: opts.settings, ...(opts.db ? { db: opts.db } : {}) });
  await metrics.listen();

  const app = new Hono();
  app.get('/', (c) => c.redirect('/ui'));
  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/metrics', async (c) => {
    try {
      const { contentType, body } = await metrics.render();
      return c.body(body, 200, { 'content-type': contentType });
    } catch (err) {
      opts.log.error('metrics.failed', { reason: err instanceof Error ? err.message : String(err) });
      return c.text('metrics unavailable\n', 503);
    }
  });
  app.route('/ui', board.registerPlugin());

  const host = opts.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: host }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  opts.log.info('dashboard.listening', { url, board: `${url}/ui`, metrics: `${url}/metrics` });
  return {
    url,
    metrics,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await metrics.close();
    },
  };
}
