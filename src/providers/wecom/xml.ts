import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * WeCom's callbacks are XML (接收消息与事件, https://developer.work.weixin.qq.com/document/path/90930; the approval
 * event, 审批申请状态变化回调通知: https://developer.work.weixin.qq.com/document/path/91815). Parsed with
 * fast-xml-parser: well-formedness checked first (its parser alone accepts an unclosed document), a DOCTYPE refused
 * outright (WeCom sends none, and no entity can then be declared), entity processing off, every value kept as text
 * (an SpNo of 12+ digits must not become a float), attributes ignored (WeCom's elements carry none).
 *
 * WeCom's strings come in CDATA sections (every example on those pages), so no entity reference is expected in text;
 * with processing off one would stay as written.
 *
 * Elements that may repeat (the 91815 parameter table: SpRecord 审批流程信息 "可能有多个审批节点", Details "可能有多个审批人",
 * Notifyer, Comments, MediaId; the newer ProcessList's NodeList and SubNodeList) are repeated siblings without a
 * wrapper: with one item they appear once, so they are always read as arrays.
 */
const REPEATED = new Set(['SpRecord', 'Details', 'Notifyer', 'Comments', 'MediaId', 'NodeList', 'SubNodeList']);

const parser = new XMLParser({
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => REPEATED.has(name),
});

export class MalformedXml extends Error {}

export type XmlNode = { [name: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

/**
 * The document's root element (`<xml>…</xml>` for every WeCom message). Throws MalformedXml. `decrypted`: the message
 * came out of a verified, decrypted envelope, whose CDATA sections hold people's text (a comment's CommentContent, an
 * approver's Speech) that may well read "<!DOCTYPE": only a declaration outside them is refused. The envelope itself,
 * read before anything is verified, is refused for the string anywhere.
 */
export function parseWeComXml(text: string, decrypted = false): XmlNode {
  const markup = decrypted ? text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '') : text;
  if (/<!DOCTYPE|<!ENTITY/i.test(markup)) throw new MalformedXml('a DOCTYPE or ENTITY declaration: WeCom sends none');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new MalformedXml(`not well-formed XML (${valid.err.msg}, line ${valid.err.line})`);
  const doc = parser.parse(text) as XmlNode;
  const root = doc.xml;
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new MalformedXml('the root element is not <xml>');
  return root;
}

/** The encrypted envelope WeCom posts: `<xml><ToUserName/><AgentID/><Encrypt/></xml>` (90930). */
export function readEnvelope(text: string): { encrypt: string; toUserName?: string; agentId?: string } {
  const root = parseWeComXml(text);
  const encrypt = root.Encrypt;
  if (typeof encrypt !== 'string' || !encrypt) throw new MalformedXml('no <Encrypt> element');
  return { encrypt, toUserName: str(root.ToUserName), agentId: str(root.AgentID) };
}

const str = (v: XmlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
