import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decryptWeCom, encryptWeCom, verifyWeComSignature, weComSignature, WrongReceiver } from './crypto.ts';

/**
 * WeCom's published test vectors for WXBizMsgCrypt, copied exactly from its official sample repositories (the
 * scheme: https://developer.work.weixin.qq.com/document/path/90968). Each has a URL check (VerifyURL: `echostr`) and
 * an event (DecryptMsg: the body's `Encrypt`); both must verify and decrypt to the samples' plaintexts.
 */
const vectors = [
  {
    // A: sbzhu/weworkapi_python, callback/Sample.py (also callback_python3/Sample.py for the URL check).
    name: 'A (weworkapi_python callback/Sample.py)',
    token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
    aesKey: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
    corpId: 'ww1436e0e65a779aee',
    verify: { signature: '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb', timestamp: '1476416373', nonce: '47744683', echostr: 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==', plain: '1288432023552776189' },
    post: {
      signature: '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
      timestamp: '1476422779',
      nonce: '1597212914',
      encrypt:
        'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+',
      plain: '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
    },
  },
  {
    // B: sbzhu/weworkapi_golang, sample.go (and sbzhu/weworkapi_php, callback/Sample.php; the worked example of 加解密方案说明).
    name: 'B (weworkapi_golang sample.go, weworkapi_php callback/Sample.php)',
    token: 'QDG6eK',
    aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    corpId: 'wx5823bf96d3bd56c7',
    // The sample's URL carries it URL-encoded: P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D
    verify: { signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3', timestamp: '1409659589', nonce: '263014780', echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==', plain: '1616140317555161061' },
    post: {
      signature: '477715d11cdb4164915debcba66cb864d751f3e6',
      timestamp: '1409659813',
      nonce: '1372623149',
      encrypt:
        'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
      plain:
        '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
    },
  },
];

describe('WXBizMsgCrypt against WeCom\'s published test vectors', () => {
  for (const v of vectors) {
    test(`vector ${v.name}: URL check and event, signature and decryption`, () => {
      assert.equal(weComSignature(v.token, v.verify.timestamp, v.verify.nonce, v.verify.echostr), v.verify.signature);
      assert.ok(verifyWeComSignature(v.token, v.verify.timestamp, v.verify.nonce, v.verify.echostr, v.verify.signature));
      assert.equal(decryptWeCom(v, v.verify.echostr), v.verify.plain);
      assert.equal(weComSignature(v.token, v.post.timestamp, v.post.nonce, v.post.encrypt), v.post.signature);
      assert.ok(verifyWeComSignature(v.token, v.post.timestamp, v.post.nonce, v.post.encrypt, v.post.signature.toUpperCase()));
      assert.ok(!verifyWeComSignature(`${v.token}x`, v.post.timestamp, v.post.nonce, v.post.encrypt, v.post.signature));
      assert.ok(!verifyWeComSignature(v.token, v.post.timestamp, `${v.post.nonce}1`, v.post.encrypt, v.post.signature));
      assert.equal(decryptWeCom(v, v.post.encrypt), v.post.plain);
    });
  }

  test('pad values above 16 (the vectors carry 7, 22 and 30): 32-byte blocks, Node\'s own padding off', () => {
    for (const v of vectors) assert.equal(Buffer.from(v.post.encrypt, 'base64').length % 32, 0);
  });

  test('a message sealed for another corp is refused, even with our key', () => {
    const [a, b] = vectors;
    assert.throws(() => decryptWeCom({ aesKey: b!.aesKey, corpId: a!.corpId }, b!.post.encrypt), WrongReceiver);
    assert.throws(() => decryptWeCom({ aesKey: a!.aesKey, corpId: a!.corpId }, b!.post.encrypt), (e: Error) => !(e instanceof WrongReceiver));
  });

  test('encryption round-trips (16 random bytes: no fixed vector), 32-byte blocks', () => {
    const keys = { aesKey: vectors[0]!.aesKey, corpId: 'ww-sim-corp' };
    const plain = '<xml><Event><![CDATA[sys_approval_change]]></Event></xml>';
    const enc = encryptWeCom(keys, plain);
    assert.notEqual(enc, encryptWeCom(keys, plain), 'a random prefix each time');
    assert.equal(Buffer.from(enc, 'base64').length % 32, 0);
    assert.equal(decryptWeCom(keys, enc), plain);
    // The python vector's random prefix is "8908d0ff052afda0" (its bytes as text): sealing with it reproduces the vector.
    const a = vectors[0]!;
    assert.equal(encryptWeCom(a, a.verify.plain, Buffer.from('8908d0ff052afda0')), a.verify.echostr);
  });
});
