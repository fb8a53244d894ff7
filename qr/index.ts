/** QR transport: UR encode/decode (allowlisted types), animated reassembly, QR frame rendering and decoding. */
export {
  UR_TYPES,
  DEFAULT_FRAGMENT_BYTES,
  MAX_FRAGMENT_BYTES,
  MIN_FRAGMENT_BYTES,
  isUrType,
  parseUrPart,
  decodeSinglePartUr,
  createUrFountain,
  encodeUrParts,
  urFragmentCount,
  checkFitsAnimatedQr,
  MAX_FRAGMENTS,
  psbtToUr,
  psbtCbor,
  ethSignatureToUr,
  decodeCryptoPsbt,
  decodeEthSignRequest,
  decodeEthSignature,
  type UrType,
  type UrMessage,
  type UrFountain,
  type EthSignRequestFields,
} from './ur.js';
export { UrAssembler, assembleUr, type PartOutcome } from './assembler.js';
export {
  renderQrPng,
  renderQrSvg,
  renderQrRgba,
  createQrSymbol,
  encodePng,
  type QrRenderOptions,
  type RgbaImage,
  type ErrorCorrection,
} from './render.js';
export { decodeImageFile, detectImageKind, MAX_IMAGE_PIXELS, type ImageKind } from './image.js';
export {
  createZxingDecoder,
  createJsqrDecoder,
  createCompositeDecoder,
  createDefaultDecoder,
  type QrDecoder,
  type ZxingWasmSource,
  rgbaToLuminance,
} from './decoders.js';
export { collectPartsFromText, looksLikeUrText } from './text.js';
export {
  renderUrFrames,
  frameFileName,
  readUrFromImages,
  decodeQrImage,
  interpretUr,
  type QrFrameFile,
  type ImageInput,
  type UrPayload,
} from './frames.js';
export {
  joinBbqr,
  splitBbqr,
  parseBbqrPart,
  looksLikeBbqr,
  MAX_BBQR_PARTS,
  type BbqrEncoding,
  type BbqrFileType,
  type RawDeflate,
} from './bbqr.js';
export {
  cryptoAccountUr,
  cryptoAccountCbor,
  decodeCryptoAccount,
  normalizePath,
  parsePath,
  type PairedAccount,
} from './crypto-account.js';
