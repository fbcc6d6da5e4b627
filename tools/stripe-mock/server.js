// Starts stripe-stateful-mock on 127.0.0.1 only, on a free port chosen by the OS (or $PORT),
// and prints "listening <port>" once it accepts connections. Used by tests/adapters.
// The mock's own app, with Checkout Sessions and PaymentIntents (checkout.js) mounted before its
// routes, behind its API-key check and Idempotency-Key replay like every other route.
const express = require("express");
const bodyParser = require("body-parser");
const {routes} = require("stripe-stateful-mock/dist/routes");
const {auth} = require("stripe-stateful-mock/dist/api/auth");
const {idempotencyRoute} = require("stripe-stateful-mock/dist/api/idempotency");
const {RestError} = require("stripe-stateful-mock/dist/api/RestError");
const checkout = require("./checkout");
require("loglevel").setLevel(process.env.LOG_LEVEL || "warn");

const app = express();
app.use(bodyParser.urlencoded({extended: true}));
app.use(auth.authRoute);
app.use(idempotencyRoute);
app.use("/", checkout.routes);
app.use("/", routes);
app.use((err, req, res, next) => {  // as the mock's createExpressApp answers its errors
    if (err instanceof RestError) {
        res.status(err.statusCode).send({error: err.error});
        return;
    }
    res.status(500).send({message: "Unexpected error: " + err.message});
});

const port = Number(process.env.PORT || 0);
const server = app.listen(port, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => server.close(() => process.exit(0)));
}
