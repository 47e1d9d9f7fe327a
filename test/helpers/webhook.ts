import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface WebhookCapture {
  url: string;
  /** The JSON bodies posted so far, in arrival order. */
  bodies: Array<{ title: string; text: string; fields: Record<string, unknown> }>;
  close(): void;
}

/** A local webhook that answers ok and keeps what capa-sync's alert channel posts. */
export async function captureWebhook(): Promise<WebhookCapture> {
  const bodies: WebhookCapture['bodies'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => server.close(),
  };
}
