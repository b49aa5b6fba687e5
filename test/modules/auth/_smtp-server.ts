// An SMTP server for the magic-link tests: the `smtp-server` package in its own
// process. Each accepted message is printed as `MAIL <base64 JSON {from, to, raw}>`.
import { SMTPServer } from "smtp-server";

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      const mail = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        raw: Buffer.concat(chunks).toString("utf8"),
      };
      console.log(`MAIL ${Buffer.from(JSON.stringify(mail)).toString("base64")}`);
      callback();
    });
  },
});
server.listen(Number(process.env.SMTP_PORT ?? 0), "127.0.0.1", () => {
  const address = server.server.address();
  console.log(`READY ${typeof address === "object" && address ? address.port : 0}`);
});
