import { startExampleService } from '../examples/example-service.ts';
import { help } from './validate.ts';
import { parse, UsageError, type Command } from './usage.ts';

export const exampleService: Command = {
  summary: 'run the example business service alone (what sandbox mode starts beside the simulator)',
  usage: `ticketflow example-service [--port <n>] [--host <address>]

Serves the check and execute endpoints and options sources of every example pipeline in pipelines/ (admin-permission,
sql-change, travel-expense, clouddm-data-change, clouddm-permission) on one port (default 4000; 0 picks a free one), on 127.0.0.1 unless
--host says otherwise. Each pipeline's requests are verified (signature v1.1) with its secret from the environment
(TICKETFLOW_SECRET_ADMIN_PERMISSION, …): use the values the runtime uses. Async stages call back signed v1.1.
Its source, src/examples/, is written against the generated types and signature helper only: a place to start
your own service. SIGTERM or SIGINT stops it.`,
  async run(args) {
    const { values } = parse(args, { port: { type: 'string', default: '4000' }, host: { type: 'string', default: '127.0.0.1' } });
    if (values.help) return help(this.usage);
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
    const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)}  ${line}`);
    let service;
    try {
      service = await startExampleService({ secret: (name) => process.env[name] || undefined, port: Number(values.port), host: values.host, say });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        console.error(`ticketflow example-service: cannot listen on ${values.host}:${values.port} (${code}); choose another --port or --host`);
        return 1;
      }
      throw e;
    }
    console.log(`Example business service at ${service.url} (Ctrl-C stops it)\n`);
    for (const app of service.apps) {
      const secret = process.env[app.secretEnv] ? 'set' : 'NOT SET: its requests are refused (401)';
      console.log(`${app.pipeline} (pipelines/ calls it at https://${app.host}; ${app.secretEnv} ${secret})`);
      for (const path of Object.keys(app.stages)) console.log(`  POST ${service.url}${path}`);
      for (const path of Object.keys(app.options ?? {})) console.log(`  POST ${service.url}${path}  (options source)`);
    }
    console.log(`\nPoint a pipeline's endpoints here with the same paths (plain http is allowed on loopback); in sandbox mode the runtime starts its own copy for the example hosts.`);
    await new Promise<void>((resolve) => {
      const stop = () => void service.close().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  },
};
