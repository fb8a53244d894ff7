/**
 * Stands in for Node-only image codecs (pngjs, jpeg-js) in the browser bundles. The renderer never decodes image
 * files itself (the appliance does); only qr/'s frame decoder and UR code run in the browser.
 */
const unavailable = (): never => {
  throw new Error('Image file codecs are not part of the renderer bundle.');
};
export default {
  PNG: { sync: { read: unavailable, write: unavailable } },
  decode: unavailable,
  encode: unavailable,
};

/**
 * The UR registries (CBOR payload types) are also left out: the renderer only moves UR parts (reassembly and
 * re-fragmenting need @ngraveio/bc-ur alone); decoding the request inside them is the appliance's job.
 */
class NotInRenderer {
  constructor() {
    unavailable();
  }
  static fromCBOR = unavailable;
}
export const CryptoPSBT = NotInRenderer;
export const EthSignRequest = NotInRenderer;
export const ETHSignature = NotInRenderer;
