import type { DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';

/** The runtime's DingTalk settings for a simulator, over HTTP push or Stream mode. */
export function dingTalkEnv(sim: DingTalkSimulator, mode: 'http' | 'stream' = 'http'): NodeJS.ProcessEnv {
  return {
    DINGTALK_APP_KEY: sim.options.appKey,
    DINGTALK_APP_SECRET: sim.options.appSecret,
    DINGTALK_API_BASE_URL: sim.url,
    DINGTALK_OAPI_BASE_URL: sim.url,
    DINGTALK_ASSISTANT_USER_ID: 'dt-assistant',
    ...(mode === 'http'
      ? { DINGTALK_TOKEN: sim.options.token, DINGTALK_AES_KEY: sim.options.aesKey }
      : { DINGTALK_EVENT_MODE: 'stream', DINGTALK_STREAM_URL: `${sim.url}/v1.0/gateway/connections/open` }),
  };
}
