import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../config.ts';

const env = { WECOM_CORP_ID: 'ww1436e0e65a779aee', WECOM_APP_SECRET: 's', WECOM_TOKEN: 't', WECOM_ENCODING_AES_KEY: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt' };

test('WeCom configuration: turns sandbox mode off, WeCom\'s API by default, every part required, the EncodingAESKey 43 characters', () => {
  const config = loadConfig(env);
  assert.equal(config.sandbox, false);
  assert.deepEqual(config.wecom, { corpId: 'ww1436e0e65a779aee', appSecret: 's', token: 't', aesKey: env.WECOM_ENCODING_AES_KEY, baseUrl: 'https://qyapi.weixin.qq.com' });
  assert.equal(loadConfig({ ...env, WECOM_BASE_URL: 'http://127.0.0.1:9/' }).wecom?.baseUrl, 'http://127.0.0.1:9');
  assert.equal(loadConfig({}).wecom, undefined);
  assert.throws(() => loadConfig({ ...env, WECOM_APP_SECRET: '' }), (e: Error) => e instanceof ConfigError && /WECOM_APP_SECRET/.test(e.message));
  assert.throws(() => loadConfig({ ...env, WECOM_TOKEN: '' }), /WECOM_TOKEN or WECOM_ENCODING_AES_KEY/);
  assert.throws(() => loadConfig({ ...env, WECOM_ENCODING_AES_KEY: env.WECOM_ENCODING_AES_KEY.slice(1) }), /43 letters and digits/);
  assert.throws(() => loadConfig({ ...env, WECOM_BASE_URL: 'qyapi.weixin.qq.com' }), /WECOM_BASE_URL/);
});
