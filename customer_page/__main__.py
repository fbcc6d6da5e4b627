from customer_page.server import main

main()
