// Types for deep imports of CommonJS modules that ship none (the pure, Node-free parts of qrcode and @ngraveio/bc-ur).
declare module 'qrcode/lib/core/qrcode.js' {
  import type { QRCode, QRCodeSegment, QRCodeOptions } from 'qrcode';
  export function create(data: string | QRCodeSegment[], options?: QRCodeOptions): QRCode;
}
declare module 'qrcode/lib/renderer/utils.js' {
  import type { QRCode } from 'qrcode';
  export interface RendererOptions {
    scale: number;
    margin: number;
    width?: number;
    color: {
      dark: { r: number; g: number; b: number; a: number; hex: string };
      light: { r: number; g: number; b: number; a: number; hex: string };
    };
  }
  export function getOptions(options?: { scale?: number; margin?: number; width?: number }): RendererOptions;
  export function getImageWidth(size: number, options: RendererOptions): number;
  export function qrToImageData(
    imgData: Uint8ClampedArray | Uint8Array,
    qr: QRCode,
    options: RendererOptions,
  ): void;
}
declare module 'qrcode/lib/renderer/svg-tag.js' {
  import type { QRCode } from 'qrcode';
  export function render(qr: QRCode, options?: { margin?: number; width?: number }): string;
}
declare module '@ngraveio/bc-ur/dist/bytewords.js' {
  const bytewords: unknown;
  export default bytewords;
}
declare module '@ngraveio/bc-ur/dist/fountainEncoder.js' {
  export { FountainEncoderPart } from '@ngraveio/bc-ur/dist/fountainEncoder';
  const fountainEncoder: unknown;
  export default fountainEncoder;
}
declare module '@ngraveio/bc-ur/dist/fountainDecoder.js' {
  export { FountainDecoderPart } from '@ngraveio/bc-ur/dist/fountainDecoder';
  const fountainDecoder: unknown;
  export default fountainDecoder;
}
declare module '@ngraveio/bc-ur/dist/utils.js' {
  export { getCRC } from '@ngraveio/bc-ur/dist/utils';
}
declare module '@ngraveio/bc-ur/dist/xoshiro.js' {
  const xoshiro: unknown;
  export default xoshiro;
}
