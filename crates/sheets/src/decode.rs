//! Text decoding for CSV: a `Read` adapter that turns Windows-1250 into UTF-8 as
//! the file streams, and the bytes that mean nothing in Windows-1250.

use std::io::{self, Read};

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes Windows-1250 leaves undefined. encoding_rs (following the WHATWG
/// standard) decodes them to C1 control characters, so they are checked here.
const UNDEFINED_1250: [u8; 5] = [0x81, 0x83, 0x88, 0x90, 0x98];

pub(crate) fn undefined_in_1250(b: u8) -> bool {
    UNDEFINED_1250.contains(&b)
}

/// Reads `inner` as text in `encoding` and gives it out as UTF-8.
pub(crate) struct DecodingReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    /// Input not yet decoded: `input[in_pos..in_end]`.
    in_pos: usize,
    in_end: usize,
    at_eof: bool,
    output: Vec<u8>,
    /// Decoded bytes not yet handed out: `output[out_pos..out_end]`.
    out_pos: usize,
    out_end: usize,
    finished: bool,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> DecodingReader<R> {
    pub(crate) fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        let decoder = encoding.new_decoder_without_bom_handling();
        let out_len = decoder
            .max_utf8_buffer_length(CHUNK)
            .unwrap_or(CHUNK * 4)
            .max(16);
        DecodingReader {
            inner,
            decoder,
            input: vec![0; CHUNK],
            in_pos: 0,
            in_end: 0,
            at_eof: false,
            output: vec![0; out_len],
            out_pos: 0,
            out_end: 0,
            finished: false,
        }
    }

    /// Decodes more input until there is output; false at the end of it all.
    fn fill(&mut self) -> io::Result<bool> {
        while self.out_pos == self.out_end {
            if self.finished {
                return Ok(false);
            }
            if self.in_pos == self.in_end && !self.at_eof {
                let n = loop {
                    match self.inner.read(&mut self.input) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.in_pos = 0;
                self.in_end = n;
                self.at_eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_pos..self.in_end],
                &mut self.output,
                self.at_eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_end = written;
            self.finished = self.at_eof && result == encoding_rs::CoderResult::InputEmpty;
        }
        Ok(true)
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out_end - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Hands out its bytes a few at a time, as a slow file would.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn windows_1250_becomes_utf8() {
        let text = "Imię;Nazwisko\nŁucja;Źrebięcka-Żółć\n".repeat(5000);
        let (bytes, _, bad) = encoding_rs::WINDOWS_1250.encode(&text);
        assert!(!bad);
        let mut out = String::new();
        DecodingReader::new(Trickle(&bytes, 7), encoding_rs::WINDOWS_1250)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn undefined_bytes_decode_to_c1_controls() {
        let (text, _) = encoding_rs::WINDOWS_1250.decode_without_bom_handling(&[0x81, 0x98, b'a']);
        assert_eq!(text, "\u{81}\u{98}a");
    }

    #[test]
    fn small_reads_get_every_byte() {
        let text = "Imię;Nazwisko;Miasto\r\nŁucja;Żółćwińska;Łódź\r\nŚcibor;Ąęźńy;Gdańsk\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1250.encode(text);
        let mut reader = DecodingReader::new(Trickle(&bytes, 5), encoding_rs::WINDOWS_1250);
        let mut out = Vec::new();
        let mut byte = [0u8; 3];
        loop {
            let n = reader.read(&mut byte).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&byte[..n]);
        }
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
}
