const names: Record<string, string> = { lark: 'Lark', dingtalk: 'DingTalk', wecom: 'WeCom' };

/** An IM's name as people write it, for log lines, alarms and findings. */
export const imName = (provider: string): string => names[provider] ?? provider;
