/** Fields an IM's create call cannot take, whichever the IM: the creation fails at once, never retried. */
export class NotCreatable extends Error {}
