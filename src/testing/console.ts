import type { TestStack } from './runtime.ts';

/** Signs in through the simulator's Lark OAuth with plain HTTP (what a browser does), returning the session cookie. */
export async function signInOverHttp(stack: TestStack, userId: string): Promise<{ status: number; cookie?: string; csrf?: string }> {
  const start = await fetch(`${stack.runtime.url}/auth/lark/start`, { redirect: 'manual' });
  const stateCookie = start.headers.get('set-cookie')!.split(';')[0]!;
  const authorize = new URL(start.headers.get('location')!);
  const confirm = new URL('/open-apis/authen/v1/authorize/confirm', authorize);
  for (const [k, v] of authorize.searchParams) confirm.searchParams.set(k, v);
  confirm.searchParams.set('user_id', userId);
  const granted = await fetch(confirm, { redirect: 'manual' });
  const callback = await fetch(granted.headers.get('location')!, { redirect: 'manual', headers: { cookie: stateCookie } });
  const session = callback.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('tf_session=') && c !== 'tf_session=');
  if (!session) return { status: callback.status };
  const home = await fetch(`${stack.runtime.url}/`, { headers: { cookie: session } });
  const csrf = /data-csrf="([^"]*)"/.exec(await home.text())?.[1];
  return { status: callback.status, cookie: session, csrf };
}
