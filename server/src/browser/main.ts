// The language server in a browser web worker (the web extension: vscode.dev, github.dev). The
// same engine and server as in Node; files come through the client, grammars from the extension.
import { BrowserMessageReader, BrowserMessageWriter, createConnection } from 'vscode-languageserver/browser';
import { startServer } from '../lsp/server';
import { allRules } from '../rules';
import { browserHost } from './host';

/** The worker's global scope, which posts and receives the JSON-RPC messages. */
const scope = globalThis as unknown as ConstructorParameters<typeof BrowserMessageReader>[0];
const connection = createConnection(new BrowserMessageReader(scope), new BrowserMessageWriter(scope));
startServer(connection, browserHost(connection), allRules);
