//! Placeholder for message bodies not yet decoded field by field: keeps the body bytes as they came.

/// Declares `pub struct $name { pub body: Bytes }` that round-trips its body unchanged.
macro_rules! opaque_body {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Default)]
        pub struct $name {
            pub body: bytes::Bytes,
        }

        impl $crate::msg::Body for $name {
            fn decode(_cx: $crate::msg::Cx, r: &mut $crate::buf::Reader) -> Result<Self, $crate::errors::OfpErr> {
                Ok($name { body: r.rest() })
            }

            fn encode(&self, _cx: $crate::msg::Cx, buf: &mut bytes::BytesMut) {
                bytes::BufMut::put_slice(buf, &self.body);
            }
        }
    )*};
}
pub(crate) use opaque_body;
