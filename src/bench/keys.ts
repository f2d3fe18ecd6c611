/** Lark app settings shared by the intake benchmark's load generator and its servers. */
export const benchKeys = { encryptKey: 'bench-encrypt-key', verificationToken: 'bench-token' };
