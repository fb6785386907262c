import v8 from "node:v8";

/**
 * Node's own IPC wire format in its "advanced" serialization (`child_process`'s
 * `serialization: "advanced"`; Node's lib/internal/child_process/serialization.js): each message is
 * a big-endian uint32 of its length, then the message as V8's structured clone (v8.serialize),
 * with typed arrays and Buffers as host objects tagged 0 and other host objects tagged 1 and
 * written as plain objects.
 *
 * The sandbox child speaks it through Node's own channel (`process.send`, NODE_CHANNEL_FD); the
 * worker speaks it here, over the socket the launcher hands it (spawner.ts), because that socket
 * did not come from the worker's own spawn().
 */

const ARRAY_BUFFER_VIEW_TAG = 0;
const PLAIN_OBJECT_TAG = 1;

type HostObjects = { _writeHostObject(object: object): void; _readHostObject(): unknown };
const writeDefaultHostObject = (v8.DefaultSerializer.prototype as unknown as HostObjects)._writeHostObject;
const readDefaultHostObject = (v8.DefaultDeserializer.prototype as unknown as HostObjects)._readHostObject;

class ChannelSerializer extends v8.DefaultSerializer {
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW_TAG);
      writeDefaultHostObject.call(this, object);
      return;
    }
    this.writeUint32(PLAIN_OBJECT_TAG);
    this.writeValue({ ...object });
  }
}

class ChannelDeserializer extends v8.DefaultDeserializer {
  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === ARRAY_BUFFER_VIEW_TAG) return readDefaultHostObject.call(this);
    if (tag !== PLAIN_OBJECT_TAG) throw new Error(`an IPC message with an unknown host object tag ${tag}`);
    return this.readValue();
  }
}

/** One message as its frame: the length, then the serialized message. */
export function encodeMessage(message: unknown): Buffer {
  const serializer = new ChannelSerializer();
  serializer.writeRawBytes(Buffer.alloc(4));
  serializer.writeHeader();
  serializer.writeValue(message);
  const frame = serializer.releaseBuffer();
  frame.writeUInt32BE(frame.length - 4, 0);
  return frame;
}

/** Cuts a byte stream into frames and decodes each; a frame may arrive in any number of chunks. */
export class MessageDecoder {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** The messages this chunk completes, in order. Throws on a frame that is not a message (the stream is then unusable). */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    let buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
    const messages: unknown[] = [];
    while (buffer.length >= 4) {
      const end = buffer.readUInt32BE(0) + 4;
      if (buffer.length < end) break;
      const deserializer = new ChannelDeserializer(buffer.subarray(4, end));
      deserializer.readHeader();
      messages.push(deserializer.readValue());
      buffer = buffer.subarray(end);
    }
    this.chunks = buffer.length > 0 ? [buffer] : [];
    this.bytes = buffer.length;
    return messages;
  }
}
