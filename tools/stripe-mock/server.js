// Starts stripe-stateful-mock on 127.0.0.1 only, on a free port chosen by the OS (or $PORT),
// and prints "listening <port>" once it accepts connections. Used by tests/adapters.
const {createExpressApp} = require("stripe-stateful-mock");
require("loglevel").setLevel(process.env.LOG_LEVEL || "warn");

const port = Number(process.env.PORT || 0);
const server = createExpressApp().listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
