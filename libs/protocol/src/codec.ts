/**
 * MessagePack encoding of messages. Plain MessagePack (no msgpackr records or extensions on
 * the way out), so any MessagePack implementation can speak the protocol; binary goes as `bin`.
 */
import { Packr, RESET_BUFFER_MODE, Unpackr } from 'msgpackr';
import { DEFAULT_MAX_TRANSFER_BYTES } from './limits';
import { protocolError } from './protocol-error';

const OPTIONS = {
  useRecords: false, // plain maps, not msgpackr's record extension
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  mapsAsObjects: true,
  int64AsType: 'number', // a 64-bit integer decodes to a number (the guards refuse unsafe ones)
} as const;

// skipValues is a msgpackr option missing from its typings: omit `undefined` fields as JSON does,
// so an absent optional field and an undefined one encode the same.
const packr = new Packr({ ...OPTIONS, skipValues: [undefined] } as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr(OPTIONS);

/**
 * Encodes a message (or a `chunk`) as one MessagePack value. The result may be a view into a
 * buffer msgpackr shares between calls; it is never overwritten by later calls.
 */
export function encodeMessage(msg: object): Uint8Array {
  return packr.pack(msg);
}

/**
 * Encodes a message into msgpackr's working memory without keeping it there: the result is
 * overwritten by the next encode of anything. For bytes copied elsewhere at once (a chunked
 * message's frames): a large message encoded to be kept takes fresh memory (msgpackr grows its
 * buffer 4× at a time as the message fills it, copying what is written), this one reuses it.
 */
export function encodeTransient(msg: object): Uint8Array {
  return packr.pack(msg, RESET_BUFFER_MODE);
}

/**
 * Decodes one MessagePack value, refusing trailing bytes. Never trusts the content: check the
 * result with `parseWorkerMessage` / `parseCoordinatorMessage` (or use a `FrameReader`).
 * Binary fields come back as views of `bytes` (possibly at odd offsets).
 * @throws ProtocolError PROTO_ERR_TOO_LARGE over `maxBytes`, PROTO_ERR_MALFORMED for bytes that are not one MessagePack value
 */
export function decodeMessage(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_TRANSFER_BYTES): unknown {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeMessage: bytes must be a Uint8Array');
  if (bytes.byteLength > maxBytes) {
    throw protocolError('PROTO_ERR_TOO_LARGE', `message of ${bytes.byteLength} bytes is over the limit of ${maxBytes}`);
  }
  if (bytes.byteLength === 0) throw protocolError('PROTO_ERR_MALFORMED', 'empty message');
  let value: unknown;
  let end = 0;
  try {
    // unpackMultiple (sequential mode) stops after the first value; plain unpack would, on
    // trailing bytes, JSON-stringify the whole decoded payload into its error message.
    unpackr.unpackMultiple(bytes, (v: unknown, _start?: number, stop?: number) => {
      value = v;
      end = stop ?? 0;
      return false;
    });
  } catch (e) {
    // msgpackr's wording may quote payload bytes: keep only what kind of failure it was
    const why = e instanceof Error && /unexpected end/i.test(e.message) ? 'truncated MessagePack data' : 'not valid MessagePack';
    throw protocolError('PROTO_ERR_MALFORMED', why);
  }
  if (end !== bytes.byteLength) {
    throw protocolError('PROTO_ERR_MALFORMED', `${bytes.byteLength - end} trailing bytes after the message`);
  }
  return value;
}
