/** Stands in for CloudFormation's pre-signed S3 ResponseURL on loopback: records each request, answers as told. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAnswer {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ResponseUrl {
  /** http://127.0.0.1:<port> */
  base: string;
  received: ReceivedAnswer[];
  /** Forget what was received and answer 200 again. */
  reset(): void;
  /** Answer every request with this HTTP status (S3's refusal text when it is not 200). */
  answerWith(status: number): void;
  close(): Promise<void>;
}

export async function startResponseUrl(): Promise<ResponseUrl> {
  let status = 200;
  const received: ReceivedAnswer[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: String(request.method),
        path: String(request.url),
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(status).end(status === 200 ? '' : '<Error><Code>SignatureDoesNotMatch</Code></Error>');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    reset() {
      received.length = 0;
      status = 200;
    },
    answerWith(next) {
      status = next;
    },
    async close() {
      server.close();
      await once(server, 'close');
    },
  };
}
