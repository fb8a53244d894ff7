// A renderer-style Web Worker (bundled for the browser by the test): compiles zxing-wasm's reader from the app's own
// origin, decodes the RGBA frames it is sent and reassembles the UR — the design the desktop app's camera will use.
import { createZxingDecoder, type QrDecoder } from '../../../qr/decoders.js';
import { UrAssembler } from '../../../qr/assembler.js';

let decoder: Promise<QrDecoder> | undefined;
const assembler = new UrAssembler();

self.onmessage = async (event: MessageEvent<{ width: number; height: number; data: Uint8ClampedArray }>) => {
  try {
    decoder ??= WebAssembly.compileStreaming(fetch('/zxing_reader.wasm')).then((module) =>
      createZxingDecoder(module),
    );
    const { width, height, data } = event.data;
    for (const text of await (await decoder).decode(data, width, height)) assembler.receivePart(text);
    const message = assembler.isComplete() ? assembler.result() : undefined;
    self.postMessage({
      progress: assembler.progress(),
      type: message?.type,
      cbor: message ? Array.from(message.cbor) : undefined,
    });
  } catch (error) {
    self.postMessage({
      error:
        error instanceof Error
          ? `${(error as { code?: string }).code ?? error.name}: ${error.message}`
          : String(error),
    });
  }
};
