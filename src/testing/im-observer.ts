import type { ImObserver } from '../providers/im-health.ts';

/** An IM client observer that writes down what it is told. */
export function recordingObserver() {
  const said: string[] = [];
  const observer: ImObserver = {
    call: (api, outcome) => said.push(`call ${api} ${outcome}`),
    credentialsRefused: (variable, message) => said.push(`credentialsRefused ${variable} ${message}`),
    credentialsAccepted: () => said.push('credentialsAccepted'),
    quotaExhausted: (message) => said.push(`quotaExhausted ${message}`),
    quotaAvailable: () => said.push('quotaAvailable'),
  };
  return { said, observer, calls: () => said.filter((s) => s.startsWith('call ')), others: () => said.filter((s) => !s.startsWith('call ')) };
}
