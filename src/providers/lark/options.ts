import { larkEncrypt } from './crypto.ts';

/** An option in IM-neutral form: its id and its label per locale. */
export interface NeutralOption {
  id: string;
  label: { zh_cn?: string; en_us?: string };
}

export interface OptionsPage {
  options: NeutralOption[];
  hasMore: boolean;
  nextPageToken: string;
}

/**
 * Lark's external-options answer (https://open.feishu.cn/document/server-docs/approval-v4/approval/associate-external-options):
 * options referencing i18n keys, and the texts per locale (without `i18nResources` Lark renders blank options).
 * With the data source's Key, `data.result` is the base64 of its JSON encrypted with AES-256-CBC, key = SHA-256 of
 * the Key, a random IV in front (the page's Java sample), the same cipher as Lark's events; code and msg stay plain.
 */
export function larkOptionsResponse(page: OptionsPage, encryptKey?: string): Record<string, unknown> {
  const key = (id: string) => `@i18n@${id}`;
  const texts = (locale: 'zh_cn' | 'en_us') => Object.fromEntries(page.options.map((o) => [key(o.id), o.label[locale] ?? o.label.zh_cn ?? o.label.en_us ?? o.id]));
  const result = {
    options: page.options.map((o) => ({ id: o.id, value: key(o.id), isDefault: false })),
    i18nResources: [
      { locale: 'zh_cn', isDefault: true, texts: texts('zh_cn') },
      { locale: 'en_us', isDefault: false, texts: texts('en_us') },
    ],
    hasMore: page.hasMore,
    nextPageToken: page.nextPageToken,
  };
  return { code: 0, msg: 'success!', data: { result: encryptKey ? larkEncrypt(encryptKey, JSON.stringify(result)) : result } };
}
